/** The Bench form's fields and their reading into BenchOptions (pure). */
import type { FieldDef } from "./actions.ts";
import type { BenchOptions, BenchProgress } from "./types.ts";

export function benchFields(prev: Record<string, string> | null, defaultUrl: string): FieldDef[] {
  const v = (k: string, d: string) => prev?.[k] ?? d;
  return [
    { name: "url", label: "URL", kind: "text", initial: v("url", defaultUrl) },
    { name: "n", label: "Requests (-n)", kind: "text", initial: v("n", "1000") },
    { name: "c", label: "Concurrency (-c)", kind: "text", initial: v("c", "10") },
    { name: "k", label: "Keep-alive (-k)", kind: "choice", choices: ["no", "yes"], initial: v("k", "no") },
    {
      name: "t",
      label: "Duration s (-t)",
      kind: "text",
      initial: v("t", ""),
      hint: "empty: until -n requests",
    },
  ];
}

const posInt = (s: string) => (/^\d+$/.test(s.trim()) && Number(s) > 0 ? Number(s) : null);

/** BenchOptions, or the message that says which field is wrong. */
export function readBenchForm(v: Record<string, string>): BenchOptions | string {
  const url = v.url.trim();
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `URL: ${JSON.stringify(url)} is not a URL (e.g. http://127.0.0.1:8080/)`;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    return `URL: only http:// and https:// are supported, not ${u.protocol}//`;
  const requests = posInt(v.n);
  if (requests === null) return `Requests (-n): ${JSON.stringify(v.n)} is not a positive integer`;
  const concurrency = posInt(v.c);
  if (concurrency === null) return `Concurrency (-c): ${JSON.stringify(v.c)} is not a positive integer`;
  if (concurrency > requests) return "Concurrency (-c): cannot be more than the number of requests (-n)";
  const opts: BenchOptions = { url, requests, concurrency, keepAlive: v.k === "yes" };
  if (v.t.trim() !== "") {
    const t = Number(v.t.trim());
    if (!Number.isFinite(t) || t <= 0)
      return `Duration (-t): ${JSON.stringify(v.t)} is not a positive number of seconds`;
    opts.timeLimitS = t;
  }
  return opts;
}

/** How far the run is, 0..1: by time with -t, by requests otherwise. */
export function benchFraction(opts: BenchOptions, p: BenchProgress | null): number {
  if (!p) return 0;
  const f = opts.timeLimitS ? p.elapsedMs / (opts.timeLimitS * 1000) : (p.done + p.failed) / opts.requests;
  return Math.max(0, Math.min(1, f));
}

/** At most `max` histogram bars: empty ends dropped, neighbours merged. */
export function histogramBars(
  h: BenchProgress["histogram"],
  max: number,
): { label: string; value: number }[] {
  let b = h.slice();
  while (b.length && b[0].count === 0) b.shift();
  while (b.length && b[b.length - 1].count === 0) b.pop();
  while (b.length > Math.max(1, max)) {
    const m: typeof b = [];
    for (let i = 0; i < b.length; i += 2)
      m.push(i + 1 < b.length ? { upToMs: b[i + 1].upToMs, count: b[i].count + b[i + 1].count } : b[i]);
    b = m;
  }
  return b.map((x) => ({ label: `≤${x.upToMs}ms`, value: x.count }));
}
