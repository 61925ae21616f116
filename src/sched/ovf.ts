import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";

/**
 * ip_vs_ovf.c: skip OVERLOAD, weight 0 and dests whose active connections exceed their weight;
 * among the rest the highest weight wins (strict >, first in list order on ties).
 */
class Overflow implements Scheduler {
  readonly name = "ovf";
  schedule(svc: Service, _pkt: SchedPacket, _now: number): Dest | null {
    let best: Dest | null = null;
    let hw = 0;
    for (const d of svc.dests) {
      const w = d.weight;
      if (d.overloaded || d.activeConns > w || w === 0) continue;
      if (best === null || w > hw) {
        best = d;
        hw = w;
      }
    }
    return best;
  }
}

export const createOvf: SchedulerFactory = () => new Overflow();
