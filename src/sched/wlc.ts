import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";

/** ip_vs_dest_conn_overhead: (activeconns << 8) + inactconns, as a C int. */
export function connOverhead(d: Dest): number {
  return ((d.activeConns << 8) + d.inactConns) | 0;
}

const SAFE = 2 ** 53;

/** (s64)a * b > (s64)c * d, exact for 32-bit operands. */
export function mulGt(a: number, b: number, c: number, d: number): boolean {
  const p = a * b;
  const q = c * d;
  if (Math.abs(p) < SAFE && Math.abs(q) < SAFE) return p > q;
  return BigInt(a) * BigInt(b) > BigInt(c) * BigInt(d);
}

/**
 * The weighted least-connection pick shared by wlc, lblc and lblcr: least = first dest (list
 * order) not OVERLOAD with weight > 0; a later non-OVERLOAD dest replaces it only when
 * loh * w(d) > doh * w(least), so ties stay with the earlier (newer) dest and weight 0 never wins.
 */
export function wlcPick(list: readonly Dest[], overhead: (d: Dest) => number = connOverhead): Dest | null {
  let i = 0;
  let least: Dest | null = null;
  for (; i < list.length; i++) {
    const d = list[i];
    if (!d.overloaded && d.weight > 0) {
      least = d;
      break;
    }
  }
  if (least === null) return null;
  let loh = overhead(least);
  for (i++; i < list.length; i++) {
    const d = list[i];
    if (d.overloaded) continue;
    const doh = overhead(d);
    if (mulGt(loh, d.weight, doh, least.weight)) {
      least = d;
      loh = doh;
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
