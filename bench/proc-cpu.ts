/**
 * CPU time of a process from /proc (Linux), for the comparison scripts: user and system time of
 * all its threads, in ms. Ticks are USER_HZ (100 on Linux).
 */
import { readFileSync } from "node:fs";

const TICK_MS = 1000 / 100;

export function processCpuMs(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(f[11]) * TICK_MS, sys: Number(f[12]) * TICK_MS };
}
