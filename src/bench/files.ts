/** ab's -e (CSV of percentages served) and -g (gnuplot TSV of every request) files. */
import { connectionTimes, roundMs } from "./ab-stats.ts";
import type { BenchResult } from "./api.ts";

/** "Percentage served,Time in ms", 0..100, times in ms with three decimals, as ab writes it. */
export function csvPercentiles(r: BenchResult): string {
  const n = r.samples.count;
  if (n === 0) return "Percentage served,Time in ms\n";
  const t = connectionTimes(r.samples).sortedTime;
  const lines = ["Percentage served,Time in ms"];
  for (let i = 0; i <= 100; i++) {
    let idx = i === 0 ? 0 : i === 100 ? n - 1 : Math.trunc(0.5 + (n * i) / 100);
    if (idx > n - 1) idx = n - 1;
    lines.push(`${i},${(t[idx] / 1000).toFixed(3)}`);
  }
  return lines.join("\n") + "\n";
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (v: number): string => String(v).padStart(2, "0");

/** apr_ctime's form: "Sat Nov 21 07:25:10 2026", local time. */
export function aprCtime(ms: number): string {
  const d = new Date(ms);
  const hms = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${two(d.getDate())} ${hms} ${d.getFullYear()}`;
}

/** One line per timed request, ordered by total time (ab sorts its records before writing). */
export function gnuplotTsv(r: BenchResult): string {
  const s = r.samples;
  const n = s.count;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => s.time[a] - s.time[b]);
  const lines = ["starttime\tseconds\tctime\tdtime\tttime\twait"];
  for (const i of order) {
    const start = s.start[i];
    lines.push(
      `${aprCtime(start)}\t${Math.floor(start / 1000)}\t${roundMs(s.ctime[i])}\t${roundMs(s.time[i] - s.ctime[i])}\t${roundMs(s.time[i])}\t${roundMs(s.wait[i])}`,
    );
  }
  return lines.join("\n") + "\n";
}
