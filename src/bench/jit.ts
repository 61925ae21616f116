/**
 * Keeps the load generator's hot path out of JSC's top tier (FTL). Measured on a 100k-request
 * keep-alive run: FTL compiles of the loop and what it inlines take ~65 ms of CPU on JSC's JIT
 * thread, and the FTL code earns nothing back, because the time per request is in syscalls;
 * the DFG tier runs the same code as fast. A load generator's CPU per request counts its JIT.
 */
import { noFTL } from "bun:jsc";

/**
 * Every method of these classes' prototypes (own and inherited, up to Object) stays below FTL.
 * Anything without a prototype object (a bundle may hand over a wrapped export) is skipped: this
 * is an optimisation and must never stop the program.
 */
export function keepOutOfFtl(...classes: ({ prototype?: object } | undefined)[]): void {
  for (const c of classes) {
    for (
      let p: object | null | undefined = c?.prototype;
      p != null && typeof p === "object" && p !== Object.prototype;
      p = Object.getPrototypeOf(p)
    ) {
      for (const k of Object.getOwnPropertyNames(p)) {
        const d = Object.getOwnPropertyDescriptor(p, k);
        if (k !== "constructor" && typeof d?.value === "function") noFTL(d.value);
      }
    }
  }
}
