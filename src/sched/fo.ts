import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";

/** ip_vs_fo.c: the non-OVERLOAD dest with the highest weight (> 0); strict > keeps the first. */
class WeightedFailover implements Scheduler {
  readonly name = "fo";
  schedule(svc: Service, _pkt: SchedPacket, _now: number): Dest | null {
    let best: Dest | null = null;
    let hw = 0;
    for (const d of svc.dests) {
      if (!d.overloaded && d.weight > hw) {
        best = d;
        hw = d.weight;
      }
    }
    return best;
  }
}

export const createFo: SchedulerFactory = () => new WeightedFailover();
