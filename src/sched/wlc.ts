import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";

/** ip_vs_dest_conn_overhead: (activeconns << 8) + inactconns, as a C int. */
export function connOverhead(d: Dest): number {
  return ((d.activeConns << 8) + d.inactConns) | 0;
}

const SAFE = 2 ** 53;

/** (s64)a * b > (s64)c * d, exact for 32-bit operands (doubles are exact below 2^53). */
export function mulGt(a: number, b: number, c: number, d: number): boolean {
  const p = a * b;
  const q = c * d;
  if (p < SAFE && p > -SAFE && q < SAFE && q > -SAFE) return p > q;
  return BigInt(a) * BigInt(b) > BigInt(c) * BigInt(d);
}

/** The overhead the weighted-least pick compares: wlc's connection overhead or sed's expected delay. */
export type OverheadKind = "conn" | "sed";

function overheadOf(d: Dest, kind: OverheadKind): number {
  return kind === "conn" ? ((d.activeConns << 8) + d.inactConns) | 0 : (d.activeConns + 1) | 0;
}

/**
 * The weighted least-connection pick shared by wlc, sed, lblc and lblcr: least = first dest
 * (list order) not OVERLOAD with weight > 0; a later non-OVERLOAD dest replaces it only when
 * loh * w(d) > doh * w(least), so ties stay with the earlier (newer) dest and weight 0 never wins.
 */
export function wlcPick(list: readonly Dest[], kind: OverheadKind = "conn"): Dest | null {
  const n = list.length;
  let i = 0;
  let least: Dest | null = null;
  for (; i < n; i++) {
    const d = list[i];
    if (!d.overloaded && d.weight > 0) {
      least = d;
      break;
    }
  }
  if (least === null) return null;
  let loh = overheadOf(least, kind);
  let lw = least.weight;
  for (i++; i < n; i++) {
    const d = list[i];
    if (d.overloaded) continue;
    const doh = overheadOf(d, kind);
    const p = loh * d.weight;
    const q = doh * lw;
    // Fast exact path; fall back to 64-bit products only for huge counters/weights.
    if (p < SAFE && q < SAFE && p > -SAFE && q > -SAFE ? p > q : mulGt(loh, d.weight, doh, lw)) {
      least = d;
      loh = doh;
      lw = d.weight;
    }
  }
  return least;
}

class WeightedLeastConn implements Scheduler {
  readonly name = "wlc";
  schedule(svc: Service, _pkt: SchedPacket, _now: number): Dest | null {
    return wlcPick(svc.dests);
  }
}

export const createWlc: SchedulerFactory = () => new WeightedLeastConn();
