import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";
import { connOverhead } from "./wlc.ts";

/** ip_vs_lc.c: least (active << 8) + inactive among non-OVERLOAD, non-zero-weight dests; strict <. */
class LeastConn implements Scheduler {
  readonly name = "lc";
  schedule(svc: Service, _pkt: SchedPacket, _now: number): Dest | null {
    let least: Dest | null = null;
    let loh = 0;
    for (const d of svc.dests) {
      if (d.overloaded || d.weight === 0) continue;
      const doh = connOverhead(d) >>> 0; // the kernel compares as unsigned int
      if (least === null || doh < loh) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
}

export const createLc: SchedulerFactory = () => new LeastConn();
