/**
 * `uvs health [--json]`: every health check of the running daemon, grouped by virtual service —
 * real server, checker, state, since when, latency and the last result with its reason.
 * `uvs health negotiate SERVICE HOST:PORT [options]` runs one ldirectord negotiate check and exits
 * 0 (up) or 1 (down), so it also works as a MISC_CHECK script.
 */
import { connectControl } from "../control/client.ts";
import { negotiateFromArgs } from "../health/negotiate.ts";
import type { SnapHealth } from "../model/snapshot.ts";

export const HEALTH_USAGE =
  "usage: uvs health [--json]\n       uvs health negotiate SERVICE HOST:PORT [--request R] [--receive RE] [--virtualhost H] [--method GET|HEAD] [--login L] [--passwd P] [--timeout SECONDS]\n";

const pad2 = (n: number) => String(n).padStart(2, "0");

function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** The table `uvs health` prints (pure, for tests). */
export function formatHealthTable(entries: readonly SnapHealth[], now: number): string {
  if (!entries.length) return "no health checks (no real server has a checker)\n";
  const rows = entries.map((e) => ({
    e,
    cells: [
      e.server,
      e.checker,
      e.state.toUpperCase(),
      `${clock(e.since)} (${ago(now - e.since)})`,
      e.last ? `${e.last.latencyMs.toFixed(1)}ms` : "-",
      e.last ? e.last.message : "not checked yet",
    ],
  }));
  const head = ["REAL SERVER", "CHECKER", "STATE", "SINCE", "LATENCY", "LAST RESULT"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r.cells[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : i === 4 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ");
  const out = [line(head)];
  let service = "";
  for (const r of rows) {
    if (r.e.service !== service) {
      service = r.e.service;
      out.push(service);
    }
    out.push(line(r.cells));
  }
  return `${out.map((l) => l.trimEnd()).join("\n")}\n`;
}

async function negotiateCli(args: string[]): Promise<number> {
  const r = await negotiateFromArgs(args, 30_000);
  (r.ok ? process.stdout : process.stderr).write(`${r.message}\n`);
  return r.ok ? 0 : 1;
}

export async function runHealthCli(args: string[], control: string): Promise<number> {
  if (args[0] === "negotiate") return negotiateCli(args.slice(1));
  const json = args.includes("--json");
  const bad = args.find((a) => a !== "--json");
  if (bad !== undefined) {
    process.stderr.write(`uvs health: unexpected argument ${JSON.stringify(bad)}\n${HEALTH_USAGE}`);
    return 2;
  }
  try {
    const c = await connectControl(control);
    const { entries } = await c.call("health", {});
    c.close();
    process.stdout.write(
      json ? `${JSON.stringify(entries, null, 2)}\n` : formatHealthTable(entries, Date.now()),
    );
    return 0;
  } catch (e) {
    process.stderr.write(`uvs health: ${(e as Error).message}\n`);
    return 1;
  }
}
