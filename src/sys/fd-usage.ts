/**
 * File descriptors of this process: how many are open and the soft limit, from /proc (Linux).
 * Elsewhere both are unknown and the process is never considered out of descriptors.
 */
import { readdirSync, readFileSync } from "node:fs";

let cachedLimit: number | null = null;

/**
 * The soft limit. The last value read is kept: at the moment it matters there may be no
 * descriptor left to read it again.
 */
export function fdLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    cachedLimit = m && m[1] !== "unlimited" ? Number(m[1]) : Number.POSITIVE_INFINITY;
    return cachedLimit;
  } catch {
    return cachedLimit ?? Number.POSITIVE_INFINITY;
  }
}

export function fdsInUse(): number {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch (e) {
    // Reading the folder needs a descriptor itself: failing for want of one is the answer.
    const code = (e as NodeJS.ErrnoException).code;
    return code === "EMFILE" || code === "ENFILE" ? Number.POSITIVE_INFINITY : 0;
  }
}

/** True when fewer than `margin` descriptors are left (what EMFILE means, seen from outside). */
export function fdsExhausted(margin = 8): boolean {
  return fdsInUse() >= fdLimit() - margin;
}
