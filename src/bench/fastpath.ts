/**
 * The ffi engine's hot loop in C (fastpath.c), compiled at start with bun:ffi's TinyCC: about
 * 5 ms of CPU, which a run of a few thousand requests earns back. TinyCC reads its source from a
 * file, so the text (embedded in the binary) is written to a temporary folder for the compile.
 * Null, with the reason, where it cannot be built: the engine then runs its JavaScript loop.
 */
import { cc, FFIType, type Pointer, ptr } from "bun:ffi";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import source from "./fastpath.c" with { type: "text" };

// Indices of fastpath.c's ctl[] and out[] records.
const C_BUDGET = 0;
const C_STOP_AT = 1;
const C_OFFSET = 2;
const C_FLAGS = 3;
const C_EVENTS = 4;
const C_SPLIT = 5;
const C_READ = 6;
const C_NOW = 7;
export const F_KEEPALIVE = 1;
export const F_WANT_SERVER = 2;
/** Doubles per out[] record; a record's kind is its first. */
export const REC = 8;
/** A whole answer; any other kind is a hand-over (K_HANDOFF in fastpath.c). */
export const K_DONE = 1;
/** A hand-over's recv result when the C loop did not read (the event is passed on as it is). */
export const NO_RECV = -1e9;
/** Doubles per slot of part[] (fastpath.c's PART), and their meaning. */
const PART = 8;
const P_STATUS = 0;
const P_LENGTH = 1;
const P_KA = 2;
const P_LEFT = 3;
const P_T0 = 4;
const P_READ = 5;
/** Bytes per slot of the answer cache (fastpath.c's CACHE_STRIDE). */
const CACHE_STRIDE = 32 + 1024;
/** Where the C loop reads; bytes it hands over stay here until the driver has seen them. */
const BUF_SIZE = 256 * 1024;

type PumpFn = (
  ep: number,
  events: Pointer,
  maxEvents: number,
  timeout: number,
  fds: Pointer,
  serials: Pointer,
  armed: Pointer,
  rbuf: Pointer,
  rbufLen: number,
  req: Pointer,
  reqLen: number,
  ctl: Pointer,
  out: Pointer,
  outMax: number,
  cache: Pointer,
  part: Pointer,
) => number;

interface FastPath {
  pump: PumpFn;
  /** The compiled library: held so that its code stays mapped. */
  lib: unknown;
  /** performance.now() minus the C side's clock (ms). */
  offset: number;
}

/** An explicit ArrayBuffer under each array: JSC may move a small typed array's storage, and ptr() with it. */
const own = <T>(make: (b: ArrayBuffer) => T, bytes: number): T => make(new ArrayBuffer(bytes));

/** An answer the C loop began and handed over in its body (fastpath.c's part[]). */
export interface PartialAnswer {
  status: number;
  length: number;
  keepAlive: boolean;
  /** Body bytes still due. */
  left: number;
  /** When its first byte came (performance.now() ms). */
  tFirst: number;
  /** Bytes of it read so far, head included. */
  read: number;
}

/**
 * The C loop and the memory it shares with the driver: per slot the socket, its serial (stale
 * events are dropped), whether it is armed (request sent, answer not begun) and the head of an
 * answer whose body is still coming (part); the buffer it reads into, the answer cache, and per
 * call the in/out block and the records.
 */
export class FastLoop {
  /** Records of the last pump(): REC doubles each (fastpath.c). */
  readonly out: Float64Array;
  /** Bytes the C loop read and handed over (records give their offsets). */
  readonly buf = own((b) => new Uint8Array(b), BUF_SIZE);
  private readonly fds: Int32Array;
  private readonly serials: Uint32Array;
  private readonly armed: Uint8Array;
  private readonly ctl = own((b) => new Float64Array(b), 8 * 8);
  private readonly cache: Uint8Array;
  private readonly part: Float64Array;
  private readonly p: Record<"fds" | "serials" | "armed" | "buf" | "ctl" | "out" | "cache" | "part", Pointer>;

  constructor(
    private readonly fp: FastPath,
    slots: number,
    private readonly maxEvents: number,
  ) {
    this.fds = own((b) => new Int32Array(b), slots * 4).fill(-1);
    this.serials = own((b) => new Uint32Array(b), slots * 4);
    this.armed = own((b) => new Uint8Array(b), slots);
    this.cache = own((b) => new Uint8Array(b), slots * CACHE_STRIDE);
    this.part = own((b) => new Float64Array(b), slots * PART * 8);
    this.out = own((b) => new Float64Array(b), maxEvents * REC * 8);
    this.ctl[C_OFFSET] = fp.offset;
    this.p = {
      fds: ptr(this.fds),
      serials: ptr(this.serials),
      armed: ptr(this.armed),
      buf: ptr(this.buf),
      ctl: ptr(this.ctl),
      out: ptr(this.out),
      cache: ptr(this.cache),
      part: ptr(this.part),
    };
  }

  opened(slot: number, fd: number, serial: number): void {
    this.fds[slot] = fd;
    this.serials[slot] = serial;
  }

  closed(slot: number): void {
    this.fds[slot] = -1;
    this.armed[slot] = 0;
    this.part[slot * PART + P_LEFT] = 0;
  }

  /** The slot's request is all sent and its answer has not begun: the C loop may read it. */
  arm(slot: number): void {
    this.armed[slot] = 1;
    this.part[slot * PART + P_LEFT] = 0;
  }

  /**
   * The answer the C loop was reading on `slot` when it handed the slot over in the middle of its
   * body, or null; the JavaScript parser takes it up from there. Called once per hand-over.
   */
  takePartial(slot: number): PartialAnswer | null {
    const p = this.part;
    const o = slot * PART;
    if (p[o + P_LEFT] <= 0) return null;
    const a = {
      status: p[o + P_STATUS],
      length: p[o + P_LENGTH],
      keepAlive: p[o + P_KA] === 1,
      left: p[o + P_LEFT],
      tFirst: p[o + P_T0],
      read: p[o + P_READ],
    };
    p[o + P_LEFT] = 0;
    return a;
  }

  /**
   * epoll_wait on `ep` and the common answers; returns the number of records in `out`, or
   * -errno. `budget`: requests the C loop may start (not at or after `stopAt`, performance.now()).
   */
  pump(
    ep: number,
    events: Pointer,
    timeout: number,
    req: Pointer,
    reqLen: number,
    budget: number,
    stopAt: number,
    flags: number,
  ): number {
    const c = this.ctl;
    c[C_BUDGET] = budget;
    c[C_STOP_AT] = stopAt;
    c[C_FLAGS] = flags;
    const p = this.p;
    const m = this.maxEvents;
    return this.fp.pump(
      ep,
      events,
      m,
      timeout,
      p.fds,
      p.serials,
      p.armed,
      p.buf,
      BUF_SIZE,
      req,
      reqLen,
      p.ctl,
      p.out,
      m,
      p.cache,
      p.part,
    );
  }

  /** What the last pump()'s epoll_wait returned. */
  get events(): number {
    return this.ctl[C_EVENTS];
  }

  /** The last pump()'s clock reading (performance.now() base). */
  get now(): number {
    return this.ctl[C_NOW];
  }

  /** Answers the last pump() recorded that came in more than one read. */
  get splitAnswers(): number {
    return this.ctl[C_SPLIT];
  }

  /** Bytes the last pump() read. */
  get bytesRead(): number {
    return this.ctl[C_READ];
  }
}

/** A FastLoop for `slots` slots, or the reason the C code cannot be built here. */
export function fastLoop(slots: number, maxEvents: number): FastLoop | string {
  const fp = fastPath();
  return typeof fp === "string" ? fp : new FastLoop(fp, slots, maxEvents);
}

let built: FastPath | string | null = null;

/** The compiled fast path (built once per process), or the reason it is not available. */
function fastPath(): FastPath | string {
  if (built === null) built = build();
  return built;
}

const I32 = FFIType.i32;
const PTR = FFIType.ptr;

function build(): FastPath | string {
  let dir = "";
  try {
    dir = mkdtempSync(join(tmpdir(), "uvs-bench-"));
    const file = join(dir, "fastpath.c");
    writeFileSync(file, source);
    const lib = cc({
      source: file,
      symbols: {
        uvs_bench_pump: {
          args: [I32, PTR, I32, I32, PTR, PTR, PTR, PTR, I32, PTR, I32, PTR, PTR, I32, PTR, PTR],
          returns: I32,
        },
        uvs_bench_now: { args: [], returns: FFIType.f64 },
      },
    });
    const now = lib.symbols.uvs_bench_now as () => number;
    // Smallest gap of a few readings: the two clocks read as close together as they can be.
    let offset = Number.NaN;
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5; i++) {
      const a = performance.now();
      const c = now();
      const b = performance.now();
      if (b - a < best) {
        best = b - a;
        offset = (a + b) / 2 - c;
      }
    }
    return { pump: lib.symbols.uvs_bench_pump as unknown as PumpFn, lib, offset };
  } catch (e) {
    return `the C fast path could not be built: ${(e as Error).message}`;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
