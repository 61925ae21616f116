/**
 * The run: counters in ab's categories, the request budget (-n, -t), the slots (-c), timeouts,
 * progress and the end. Drivers (HTTP, tcp-connect, udp) do the I/O for one slot at a time and
 * report back with ok()/fail(); the run decides whether the slot starts another request.
 */
import type { BenchOptions, BenchProgress, BenchResult, BenchRun } from "./api.ts";
import { keepOutOfFtl } from "./jit.ts";
import type { ResponseParser } from "./parser.ts";
import { Latency, Samples, ServerSpread } from "./samples.ts";
import { parseTarget, type Target } from "./target.ts";

export const CONNECT = 0;
export const RECEIVE = 1;
export const LENGTH = 2;
export const EXCEPTION = 3;

/** A driver owns the sockets of `concurrency` slots. */
/** A request's clock readings (performance.now() ms), as a driver's slot keeps them. */
export interface RequestTimes {
  tStart: number;
  tConnect: number;
  tEndWrite: number;
  tBeginRead: number;
}

export interface Driver {
  /** Prepare (UDP binds its sockets); resolves to an error message or null. */
  init(): Promise<string | null>;
  /** Start one request on slot i. */
  launch(i: number): void;
  /** Fail every request on a slot busy since before `cutoff` (performance.now() ms). */
  expire(cutoff: number): void;
  /** Close every socket; no callback may reach the run afterwards. */
  closeAll(): void;
}

export interface RunHooks {
  /** ab's "Completed N requests": called when done reaches a multiple of `every`. */
  heartbeat?: { every: number; fn: (done: number) => void };
}

const TICK_MS = 100;
export const DEFAULT_TIMEOUT_S = 30;

export class Run {
  readonly opts: BenchOptions;
  readonly target: Target;
  readonly total: number;
  readonly samples: Samples;
  readonly latency = new Latency();
  readonly spread = new ServerSpread();
  driver: Driver | null = null;
  /** The HTTP engine that runs ("bun" or "ffi"); "" for the L4 modes. */
  engine = "";
  /** The ffi engine runs its C fast path. */
  fastPath = false;
  fastPathAnswers = 0;
  fastPathSplit = 0;

  started = 0;
  done = 0;
  failed = 0;
  good = 0; // responses received (ab's "good"), for the document length check
  errs = [0, 0, 0, 0];
  writeErrors = 0;
  non2xx = 0;
  keepAliveDone = 0;
  totalRead = 0;
  totalSent = 0;
  htmlRead = 0;
  docLength = 0;
  serverSoftware = "";
  /** ab's "SSL/TLS Protocol" value, from the first handshake (https only). */
  tlsProtocol = "";
  readonly kinds: Record<string, number> = {};

  t0 = 0;
  epoch0 = 0;
  private stopAt = Number.POSITIVE_INFINITY;
  readonly timeoutMs: number;
  private stopped = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private resolve!: (r: BenchResult) => void;
  readonly result: Promise<BenchResult>;
  private readonly hb: RunHooks["heartbeat"];
  private hbNext: number;
  private readonly onProgress?: (p: BenchProgress) => void;
  private readonly window: { t: number; done: number }[] = [];

  constructor(opts: BenchOptions, target: Target, onProgress?: (p: BenchProgress) => void, hooks?: RunHooks) {
    this.opts = opts;
    this.target = target;
    this.total = opts.requests;
    this.samples = new Samples(Math.min(opts.requests, 1 << 20));
    this.timeoutMs = (opts.timeoutS ?? DEFAULT_TIMEOUT_S) * 1000;
    this.onProgress = onProgress;
    this.hb = hooks?.heartbeat;
    this.hbNext = this.hb ? this.hb.every : Number.POSITIVE_INFINITY;
    this.result = new Promise((r) => {
      this.resolve = r;
    });
  }

  begin(): void {
    this.t0 = performance.now();
    this.epoch0 = Date.now();
    if (this.opts.timeLimitS) this.stopAt = this.t0 + this.opts.timeLimitS * 1000;
    this.window.push({ t: this.t0, done: 0 });
    this.timer = setInterval(() => this.tick(), TICK_MS);
    const c = Math.min(this.opts.concurrency, this.total);
    for (let i = 0; i < c; i++) this.next(i);
  }

  /** Slot i is free: start another request if the budget allows, or end the run. */
  next(i: number): void {
    if (this.stopped) return;
    if (this.started >= this.total) {
      if (this.done >= this.total) this.finish(false);
      return;
    }
    if (this.stopAt !== Number.POSITIVE_INFINITY && performance.now() >= this.stopAt) {
      this.finish(false);
      return;
    }
    this.started++;
    this.driver!.launch(i);
  }

  /** Requests a driver may still start on its own (a fast path that sends the next at once). */
  budget(): number {
    return this.stopped ? 0 : this.total - this.started;
  }

  /** No request starts at or after this time (performance.now() ms; -t). */
  get stopAtMs(): number {
    return this.stopAt;
  }

  /** A driver started a request itself, within budget() and before stopAtMs. */
  startedOne(): void {
    this.started++;
  }

  /** A request got its answer. Times are performance.now() ms. */
  ok(tStart: number, tConnect: number, tEndWrite: number, tBeginRead: number, tDone: number): void {
    const time = Math.round((tDone - tStart) * 1000);
    const wait = Math.round((tBeginRead - tEndWrite) * 1000);
    this.samples.add(
      this.epoch0 + (tStart - this.t0),
      Math.round((tConnect - tStart) * 1000),
      time,
      Math.max(wait, 0),
    );
    this.latency.record(time);
    this.count();
  }

  /** The HTTP checks ab makes on every response: status class, document length, keep-alive. */
  response(status: number, bodyBytes: number, keptAlive: boolean): void {
    if (status < 200 || status > 299) this.non2xx++;
    this.htmlRead += bodyBytes;
    if (keptAlive) this.keepAliveDone++;
    if (++this.good === 1) this.docLength = bodyBytes;
    else if (bodyBytes !== this.docLength && !this.opts.variableLength) {
      this.failed++;
      this.errs[LENGTH]++;
      this.kinds.length = (this.kinds.length ?? 0) + 1;
    }
  }

  /**
   * A parsed HTTP response ended a request: ab's checks, the server's software and name (for the
   * spread), and the request's timings. Both HTTP engines call this.
   */
  answered(p: ResponseParser, keepAlive: boolean, named: boolean, t: RequestTimes, tDone: number): void {
    this.response(p.status, p.bodyBytes, keepAlive && p.keepAlive);
    if (p.serverSoftware !== null && this.serverSoftware === "") this.serverSoftware = p.serverSoftware;
    if (named && p.nameLen > 0) this.spread.count(p.name, p.nameLen);
    this.ok(t.tStart, t.tConnect, t.tEndWrite, t.tBeginRead, tDone);
  }

  fail(category: number, kind: string): void {
    this.failed++;
    this.errs[category]++;
    this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
    this.count();
  }

  private count(): void {
    if (++this.done >= this.hbNext) {
      this.hbNext += this.hb!.every;
      this.hb!.fn(this.done);
    }
  }

  private tick(): void {
    const now = performance.now();
    this.driver!.expire(now - this.timeoutMs);
    if (now >= this.stopAt) {
      this.finish(false);
      return;
    }
    if (this.onProgress && !this.stopped) this.onProgress(this.progress(now));
  }

  progress(now = performance.now()): BenchProgress {
    const w = this.window;
    w.push({ t: now, done: this.done });
    if (w.length > 11) w.shift(); // a one-second window at ten ticks a second
    const dt = (now - w[0].t) / 1000;
    const l = this.latency;
    return {
      done: this.done,
      failed: this.failed,
      elapsedMs: now - this.t0,
      rps: dt > 0 ? (this.done - w[0].done) / dt : 0,
      latencyMs: { p50: l.pctMs(50), p90: l.pctMs(90), p99: l.pctMs(99), max: l.max / 1000 },
      histogram: l.histogram(),
    };
  }

  finish(interrupted: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    const tEnd = performance.now();
    if (this.timer) clearInterval(this.timer);
    this.driver?.closeAll();
    if (this.onProgress) this.onProgress(this.progress(tEnd));
    this.resolve(this.summary(tEnd, interrupted));
  }

  private summary(tEnd: number, interrupted: boolean): BenchResult {
    const l = this.latency;
    const o = this.opts;
    return {
      mode: o.mode ?? "http",
      engine: this.engine,
      fastPath: this.fastPath,
      fastPathAnswers: this.fastPathAnswers,
      fastPathSplit: this.fastPathSplit,
      host: this.target.host,
      port: this.target.port,
      path: this.target.path,
      serverSoftware: this.serverSoftware,
      ...(this.target.tls ? { tls: { protocol: this.tlsProtocol, serverName: this.target.serverName } } : {}),
      docLength: this.docLength,
      concurrency: o.concurrency,
      timeTakenS: (tEnd - this.t0) / 1000,
      complete: this.done,
      failed: this.failed,
      errConnect: this.errs[CONNECT],
      errReceive: this.errs[RECEIVE],
      errLength: this.errs[LENGTH],
      errExceptions: this.errs[EXCEPTION],
      writeErrors: this.writeErrors,
      non2xx: this.non2xx,
      keepAliveRequests: this.keepAliveDone,
      totalRead: this.totalRead,
      totalSent: this.totalSent,
      bodySent: !!o.body?.length,
      htmlRead: this.htmlRead,
      interrupted,
      samples: this.samples,
      hdr: {
        p50: l.pctMs(50),
        p90: l.pctMs(90),
        p99: l.pctMs(99),
        p999: l.pctMs(99.9),
        p9999: l.pctMs(99.99),
        max: l.max / 1000,
      },
      errorsByKind: { ...this.kinds },
      servers: this.spread.list(),
      serverSource: o.serverHeader ? `header ${o.serverHeader}` : o.serverFromBody ? "body" : "",
      startedAt: this.epoch0,
    };
  }
}

keepOutOfFtl(Run);

/** Reject options the run cannot honour; null when they are fine. */
export function checkOptions(o: BenchOptions): string | null {
  if (!Number.isInteger(o.requests) || o.requests <= 0) return "Invalid number of requests";
  if (!Number.isInteger(o.concurrency) || o.concurrency <= 0 || o.concurrency > 20000)
    return "Invalid Concurrency [Range 1..20000]";
  if (o.concurrency > o.requests) return "Cannot use concurrency level greater than total number of requests";
  if (o.timeoutS !== undefined && !(o.timeoutS > 0)) return "Invalid timeout";
  if (o.timeLimitS !== undefined && !(o.timeLimitS > 0)) return "Invalid time limit";
  return null;
}

export function startRun(
  opts: BenchOptions,
  onProgress?: (p: BenchProgress) => void,
  hooks?: RunHooks,
): BenchRun {
  const target = parseTarget(opts.url);
  const bad = typeof target === "string" ? target : checkOptions(opts);
  if (bad !== null) return { result: Promise.reject(new Error(bad)), cancel() {} };
  const run = new Run(opts, target as Target, onProgress, hooks);
  let cancelled = false;
  const result = makeDriver(run).then(async (driver) => {
    if (typeof driver === "string") throw new Error(driver);
    run.driver = driver;
    const err = await driver.init();
    if (err) throw new Error(err);
    if (!cancelled) run.begin();
    else run.driver.closeAll();
    return run.result;
  });
  return {
    result,
    cancel() {
      cancelled = true;
      if (run.t0 === 0) run.t0 = performance.now();
      run.finish(true);
    },
  };
}

/** The driver for the run's mode and engine; an error message when the engine asked for is missing. */
async function makeDriver(run: Run): Promise<Driver | string> {
  const o = run.opts;
  const mode = o.mode ?? "http";
  // Drivers load on demand: a run pays for the one it uses.
  if (mode === "udp") return new (await import("./l4.ts")).UdpDriver(run);
  if (mode === "tcp-connect") return new (await import("./l4.ts")).TcpConnectDriver(run);
  // TLS is Bun's (BoringSSL); the libc engine speaks plain TCP only.
  if (run.target.tls && o.engine === "ffi") return "--engine ffi has no TLS: https runs on --engine bun";
  const engine = run.target.tls ? "bun" : (o.engine ?? (process.platform === "linux" ? "ffi" : "bun"));
  if (engine === "ffi") {
    try {
      // It opens libc, which only Linux has.
      const { FfiHttpDriver } = await import("./ffi-driver.ts");
      run.engine = "ffi";
      return new FfiHttpDriver(run);
    } catch (e) {
      if (o.engine === "ffi") return `--engine ffi is not available here: ${(e as Error).message}`;
    }
  }
  run.engine = "bun";
  return new (await import("./http-driver.ts")).HttpDriver(run);
}
