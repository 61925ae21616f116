/**
 * VRRP timer arithmetic (spec keepalived.md §3.5). Milliseconds, fractional: the 1/256 s skew steps
 * (3.906 ms) are finer than a millisecond; the socket side rounds when it arms a real timer.
 */
import type { VrrpVersion } from "./vrrp-packet.ts";

export interface TimingInput {
  version: VrrpVersion;
  /** The local router's effective priority (255 for the owner). */
  priority: number;
  /** Master_Adver_Interval in centiseconds: v3 backups use the master's, v2 their own. */
  intervalCs: number;
  /** keepalived's down_timer_adverts (3). */
  downTimerAdverts: number;
}

/**
 * Skew_Time. RFC 3768 §6.1 / keepalived v2: (256 − Priority) / 256 seconds, whatever the interval;
 * RFC 5798 §6.1 v3: ((256 − Priority) × Master_Adver_Interval) / 256.
 */
export function skewMs(t: TimingInput): number {
  if (t.version === 2) return ((256 - t.priority) * 1000) / 256;
  return ((256 - t.priority) * t.intervalCs * 10) / 256;
}

/** RFC 5798 §6.1: Master_Down_Interval = (3 × Master_Adver_Interval) + Skew_Time. */
export function masterDownMs(t: TimingInput): number {
  return t.downTimerAdverts * t.intervalCs * 10 + skewMs(t);
}

/** Effective priority: base + tracking adjustments, clamped to 1..254; the owner's 255 never moves. */
export function effectivePriority(base: number, weights: Record<string, number>): number {
  if (base === 255) return 255;
  const p = base + Object.values(weights).reduce((a, b) => a + b, 0);
  return Math.min(254, Math.max(1, p));
}
