/**
 * Per-request timings, kept like ab keeps them (one record per completed request, in
 * microseconds) so the Connection Times table, the percentages, the CSV and the gnuplot file
 * are computed exactly as ab computes them. Alongside: an HDR histogram of total times for
 * live percentiles and the tail (p99.9, p99.99), and power-of-two buckets for the TUI.
 */
// The class alone: the package's index also loads its encoders and WebAssembly build, about
// 20 ms of CPU at start-up that a load generator's CPU-per-request figure would carry.
import * as float64Module from "hdr-histogram-js/dist/Float64Histogram.js";
import { keepOutOfFtl } from "./jit.ts";

type Float64HistogramClass = typeof import("hdr-histogram-js/dist/Float64Histogram.js").default;

/**
 * The class out of the CommonJS module: `bun run` hands `exports.default` over as the default
 * import, a `bun build --compile` bundle hands over the exports object; follow `default` until a
 * constructor appears, so both work.
 */
function classOf(m: unknown): Float64HistogramClass {
  let x = m;
  for (let i = 0; i < 3 && typeof x !== "function" && x && typeof x === "object" && "default" in x; i++)
    x = (x as { default: unknown }).default;
  if (typeof x !== "function") throw new Error("hdr-histogram-js: Float64Histogram class not found");
  return x as Float64HistogramClass;
}
const Float64Histogram = classOf(float64Module);

export class Samples {
  count = 0;
  /** Start of each request, ms since the epoch (gnuplot's starttime). */
  start: Float64Array;
  /** Connect, total and waiting (first byte after the write) times, µs. */
  ctime: Int32Array;
  time: Int32Array;
  wait: Int32Array;

  constructor(capacity: number) {
    const c = Math.max(16, capacity);
    this.start = new Float64Array(c);
    this.ctime = new Int32Array(c);
    this.time = new Int32Array(c);
    this.wait = new Int32Array(c);
  }

  add(startMs: number, ctimeUs: number, timeUs: number, waitUs: number): void {
    if (this.count === this.time.length) this.grow();
    const i = this.count++;
    this.start[i] = startMs;
    this.ctime[i] = ctimeUs;
    this.time[i] = timeUs;
    this.wait[i] = waitUs;
  }

  /** Time-limited runs do not know their count: double the arrays when full. */
  private grow(): void {
    const c = this.time.length * 2;
    const f = new Float64Array(c);
    f.set(this.start);
    this.start = f;
    for (const k of ["ctime", "time", "wait"] as const) {
      const a = new Int32Array(c);
      a.set(this[k]);
      this[k] = a;
    }
  }
}

export const BUCKETS = 32;

/** Live latency view: HDR histogram and power-of-two buckets of total time (µs). */
export class Latency {
  /** Total times from 1 µs to an hour, 3 significant digits. */
  readonly hist = new Float64Histogram(1, 3_600_000_000, 3);
  /** buckets[k] counts times in [2^(k-1), 2^k) µs; bucket 0 counts 0 µs. */
  readonly buckets = new Float64Array(BUCKETS);
  max = 0;

  record(us: number): void {
    const v = Math.max(us, 1);
    this.hist.recordValue(v);
    this.buckets[32 - Math.clz32(us)]++;
    if (us > this.max) this.max = us;
  }

  /** Percentile in ms (HDR resolution: 3 significant digits). */
  pctMs(p: number): number {
    return this.hist.totalCount === 0 ? 0 : this.hist.getValueAtPercentile(p) / 1000;
  }

  histogram(): { upToMs: number; count: number }[] {
    let lo = 0;
    let hi = BUCKETS - 1;
    while (lo < BUCKETS && this.buckets[lo] === 0) lo++;
    while (hi > lo && this.buckets[hi] === 0) hi--;
    const out: { upToMs: number; count: number }[] = [];
    for (let k = lo; k <= hi && lo < BUCKETS; k++)
      out.push({ upToMs: 2 ** k / 1000, count: this.buckets[k] });
    return out;
  }
}

/** Responses per real server, counted without allocating once each name has been seen. */
export class ServerSpread {
  readonly names: { bytes: Uint8Array; name: string; count: number }[] = [];

  count(b: Uint8Array, n: number): void {
    for (const e of this.names) {
      if (e.bytes.length !== n) continue;
      let same = true;
      for (let i = 0; i < n; i++)
        if (e.bytes[i] !== b[i]) {
          same = false;
          break;
        }
      if (same) {
        e.count++;
        return;
      }
    }
    if (this.names.length >= 1000) return; // not a server name: too many distinct values
    const bytes = b.slice(0, n);
    this.names.push({ bytes, name: new TextDecoder().decode(bytes), count: 1 });
  }

  list(): { name: string; count: number }[] {
    return this.names.map((e) => ({ name: e.name, count: e.count })).sort((a, b) => b.count - a.count);
  }
}

keepOutOfFtl(Samples, Latency, ServerSpread, Float64Histogram);
