/**
 * The ffi engine's hot loop in C (fastpath.c), compiled at start with bun:ffi's TinyCC: about
 * 5 ms of CPU, which a run of a few thousand requests earns back. TinyCC reads its source from a
 * file, so the text (embedded in the binary) is written to a temporary folder for the compile.
 * Null, with the reason, where it cannot be built: the engine then runs its JavaScript loop.
 */
import { cc, FFIType, type Pointer } from "bun:ffi";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import source from "./fastpath.c" with { type: "text" };

// Indices of fastpath.c's ctl[] and out[] records.
export const C_BUDGET = 0;
export const C_STOP_AT = 1;
export const C_OFFSET = 2;
export const C_FLAGS = 3;
export const C_EVENTS = 4;
export const C_READ = 6;
export const C_NOW = 7;
export const F_KEEPALIVE = 1;
export const F_WANT_SERVER = 2;
export const REC = 8;
export const K_DONE = 1;
export const K_HANDOFF = 2;
export const NO_RECV = -1e9;
/** Bytes per slot of the answer cache (fastpath.c's CACHE_STRIDE). */
export const CACHE_STRIDE = 32 + 1024;

export type PumpFn = (
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
) => number;

export interface FastPath {
  pump: PumpFn;
  /** The compiled library: held so that its code stays mapped. */
  lib: unknown;
  /** performance.now() minus the C side's clock (ms). */
  offset: number;
}

let built: FastPath | string | null = null;

/** The compiled fast path (built once per process), or the reason it is not available. */
export function fastPath(): FastPath | string {
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
          args: [I32, PTR, I32, I32, PTR, PTR, PTR, PTR, I32, PTR, I32, PTR, PTR, I32, PTR],
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
