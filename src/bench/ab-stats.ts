/**
 * ab 2.3's arithmetic for the Connection Times table and the percentages, on µs samples:
 * integer means (truncated), sample standard deviation around that mean, ab's median (which
 * averages elements n/2 and n/2+1 when n is odd), and ap_round_ms() for the printed values.
 */
import type { Samples } from "./samples.ts";

export interface Row {
  min: number;
  mean: number;
  sd: number; // ms, not rounded
  median: number;
  max: number;
}

export interface ConnTimes {
  connect: Row;
  processing: Row;
  waiting: Row;
  total: Row;
  /** Total times, sorted ascending (µs), for the percentages and the CSV file. */
  sortedTime: Int32Array;
}

/** ap_round_ms: µs to ms, rounding half up. */
export const roundMs = (us: number): number => Math.trunc((us + 500) / 1000);

function row(values: Int32Array): Row {
  const n = values.length;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = Math.trunc(sum / n);
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const a = values[i] - mean;
    sq += a * a;
  }
  const sd = n > 1 ? Math.sqrt(sq / (n - 1)) : 0;
  values.sort();
  const h = n >> 1;
  const median = n > 1 && n % 2 ? Math.trunc((values[h] + values[h + 1]) / 2) : values[h];
  return {
    min: roundMs(min),
    mean: roundMs(mean),
    sd: sd / 1000,
    median: roundMs(median),
    max: roundMs(max),
  };
}

export function connectionTimes(s: Samples): ConnTimes {
  const n = s.count;
  const ctime = s.ctime.slice(0, n);
  const time = s.time.slice(0, n);
  const d = new Int32Array(n);
  for (let i = 0; i < n; i++) d[i] = time[i] - ctime[i];
  return {
    connect: row(ctime),
    processing: row(d),
    waiting: row(s.wait.slice(0, n)),
    total: row(time), // sorts `time` in place: it is the percentage table's order
    sortedTime: time,
  };
}

export const PERCENTS = [50, 66, 75, 80, 90, 95, 98, 99, 100];

/** ab's percentage table rows: [percent, ms]. */
export function percentages(sorted: Int32Array): [number, number][] {
  const n = sorted.length;
  return PERCENTS.map((p) => [p, roundMs(p >= 100 ? sorted[n - 1] : sorted[Math.floor((n * p) / 100)])]);
}
