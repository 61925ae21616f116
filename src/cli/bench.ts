/**
 * `uvs bench`: ab 2.3's command line and report on uvs's load generator. Live progress on a
 * terminal, ab's "Completed N requests" lines otherwise; Ctrl-C prints the report of what was
 * done. The report's numbers come from src/bench; this file is the ab-shaped shell around it.
 */
import type { BenchResult } from "../bench/api.ts";
import { BENCH_USAGE, type CliSettings, loadBody, parseBenchArgs } from "../bench/args.ts";
import { csvPercentiles, gnuplotTsv } from "../bench/files.ts";
import { formatAbReport } from "../bench/report.ts";
import { requestHead } from "../bench/request.ts";
import { startRun } from "../bench/run.ts";
import { parseTarget, type Target } from "../bench/target.ts";

export interface BenchIo {
  out(s: string): void;
  err(s: string): void;
  /** stderr is a terminal: draw a live progress line instead of "Completed N requests". */
  tty: boolean;
}

const processIo: BenchIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  tty: !!process.stderr.isTTY,
};

export const BENCH_BANNER =
  "This is uvs bench, ApacheBench 2.3 compatible\nReport format of ApacheBench, Version 2.3, Copyright 1996 Adam Twiss, Zeus Technology Ltd\n\n";

/** ab's cadence: a line every 10% of the requests, never more often than every 100; none up to 150. */
export function heartbeatEvery(requests: number, quiet: boolean): number {
  if (quiet || requests <= 150) return 0;
  return Math.max(Math.trunc(requests / 10), 100);
}

export async function runBenchCli(args: string[], io: BenchIo = processIo): Promise<number> {
  const s = parseBenchArgs(args);
  if (typeof s === "string") {
    io.err(`uvs bench: ${s}\n${BENCH_USAGE}`);
    return 22; // ab exits with EINVAL after its usage
  }
  if (s.help) {
    io.err(BENCH_USAGE);
    return 0;
  }
  if (s.version) {
    io.out(BENCH_BANNER);
    return 0;
  }
  const bodyErr = await loadBody(s);
  if (bodyErr) {
    io.err(`uvs bench: ${bodyErr}\n`);
    return 1;
  }
  const target = parseTarget(s.opts.url);
  if (typeof target === "string") {
    io.err(`uvs bench: ${target}\n${BENCH_USAGE}`);
    return 22;
  }
  return bench(s, target, io);
}

async function bench(s: CliSettings, target: Target, io: BenchIo): Promise<number> {
  const o = s.opts;
  const every = io.tty ? 0 : heartbeatEvery(o.requests, s.quiet);
  io.out(BENCH_BANNER);
  if (s.verbosity >= 2 && (o.mode ?? "http") === "http")
    io.out(`INFO: ${o.method ?? "GET"} header == \n---\n${requestHead(o, target)}\n---\n`);
  io.out(`Benchmarking ${target.host} (be patient)${every ? "\n" : "..."}`);
  const live = io.tty && !s.quiet;
  const run = startRun(
    o,
    live ? (p) => io.err(progressLine(p.done, o.requests, p.rps, p.failed, p.elapsedMs)) : undefined,
    {
      heartbeat: every ? { every, fn: (n) => io.err(`Completed ${n} requests\n`) } : undefined,
    },
  );
  const onInt = () => run.cancel();
  process.on("SIGINT", onInt);
  let r: BenchResult;
  try {
    r = await run.result;
  } catch (e) {
    io.err(`\nuvs bench: ${(e as Error).message}\n`);
    return 1;
  } finally {
    process.off("SIGINT", onInt);
  }
  if (live) io.err("\r\x1b[K");
  if (every || live) io.err(`Finished ${r.complete} requests\n`);
  else io.out("..done\n");
  io.out(`\n\n${formatAbReport(r, o)}`);
  return (await writeFiles(s, r, io)) ? (r.interrupted ? 1 : 0) : 1;
}

export function progressLine(done: number, total: number, rps: number, failed: number, ms: number): string {
  const t = total >= 50000 && done < total ? `${done}` : `${done}/${total}`;
  return `\r\x1b[K${t} done  ${rps.toFixed(0)} req/s  ${failed} errors  ${(ms / 1000).toFixed(1)} s`;
}

async function writeFiles(s: CliSettings, r: BenchResult, io: BenchIo): Promise<boolean> {
  try {
    if (s.csvFile) await Bun.write(s.csvFile, csvPercentiles(r));
    if (s.gnuplotFile) await Bun.write(s.gnuplotFile, gnuplotTsv(r));
    return true;
  } catch (e) {
    io.err(`uvs bench: cannot write output file: ${(e as Error).message}\n`);
    return false;
  }
}
