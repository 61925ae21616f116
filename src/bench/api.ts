/**
 * uvs bench's programmatic interface: the CLI (`uvs bench`) and the TUI's Bench screen both
 * start runs here. startBench() returns at once; progress arrives at most 10 times a second.
 */
import { formatAbReport } from "./report.ts";
import { startRun } from "./run.ts";
import type { Samples } from "./samples.ts";

export interface BenchOptions {
  url: string;
  requests: number;
  concurrency: number;
  keepAlive: boolean;
  timeLimitS?: number;
  timeoutS?: number;
  /** GET, HEAD, POST, PUT, or any other token (ab -m). */
  method?: "GET" | "HEAD" | "POST" | "PUT" | (string & {});
  body?: Uint8Array;
  contentType?: string;
  headers?: [string, string][];
  mode?: "http" | "tcp-connect" | "udp";
  /**
   * HTTP's socket engine: "ffi" (libc sockets and epoll; the default on Linux) or "bun"
   * (Bun.connect; the default elsewhere, and where libc cannot be loaded).
   */
  engine?: "bun" | "ffi";
  /** header naming the real server */
  serverHeader?: string;
  /** The first line of the body names the real server (as `uvs backend` answers). */
  serverFromBody?: boolean;
  /** L4 modes: bytes sent per connection (tcp-connect, default 0) or per datagram (udp, default 64). */
  payloadBytes?: number;
  /** ab -l: bodies of any length are fine ("Document Length: Variable"). */
  variableLength?: boolean;
  /** ab -d (false): leave out the percentage table. */
  percentiles?: boolean;
  /** ab -S (false): the short Connection Times table, no warnings. */
  confidence?: boolean;
}

export interface BenchProgress {
  done: number;
  failed: number;
  elapsedMs: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  histogram: { upToMs: number; count: number }[];
}

export interface BenchRun {
  result: Promise<BenchResult>;
  cancel(): void;
}

export interface BenchResult {
  mode: "http" | "tcp-connect" | "udp";
  /** The engine that ran HTTP ("bun" or "ffi"); "" for the L4 modes. */
  engine: string;
  /** The ffi engine's C fast path (src/bench/fastpath.c) read the common answers. */
  fastPath: boolean;
  /** Answers the C fast path read whole, and of them those whose body came in later reads. */
  fastPathAnswers: number;
  fastPathSplit: number;
  host: string;
  port: number;
  path: string;
  /** The first Server header seen ("" if none). */
  serverSoftware: string;
  /** https: ab's "SSL/TLS Protocol" value (version,cipher,key bits,cipher bits) and the SNI sent. */
  tls?: { protocol: string; serverName: string | null };
  /** Body bytes of the first good response (ab's doclen). */
  docLength: number;
  concurrency: number;
  timeTakenS: number;
  /** Requests that ended, as successes or failures (each of -n ends exactly once). */
  complete: number;
  failed: number;
  errConnect: number;
  errReceive: number;
  errLength: number;
  errExceptions: number;
  writeErrors: number;
  non2xx: number;
  keepAliveRequests: number;
  totalRead: number;
  totalSent: number;
  bodySent: boolean;
  htmlRead: number;
  /** Stopped early (cancel / Ctrl-C) rather than by -n or -t. */
  interrupted: boolean;
  /** Timings of the requests that got a response (failures without one are not timed). */
  samples: Samples;
  /** From the HDR histogram of total times, ms. */
  hdr: { p50: number; p90: number; p99: number; p999: number; p9999: number; max: number };
  errorsByKind: Record<string, number>;
  servers: { name: string; count: number }[];
  /** Where server names came from: "header X-Name", "body" or "" (not asked). */
  serverSource: string;
  /** The run's start, ms since the epoch. */
  startedAt: number;
}

export function startBench(opts: BenchOptions, onProgress?: (p: BenchProgress) => void): BenchRun {
  return startRun(opts, onProgress);
}

/** The ab-style report (from "Server Software:" on) and uvs's additions. */
export function formatReport(r: BenchResult, opts: BenchOptions): string {
  return formatAbReport(r, opts);
}
