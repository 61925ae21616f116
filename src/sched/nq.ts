import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";
import { sedOverhead } from "./sed.ts";
import { mulGt } from "./wlc.ts";

/**
 * ip_vs_nq.c: the first idle dest (activeconns == 0) in list order wins at once; otherwise the
 * sed minimum (replace on loh * w(d) > doh * w(least), first wins ties).
 */
class NeverQueue implements Scheduler {
  readonly name = "nq";
  schedule(svc: Service, _pkt: SchedPacket, _now: number): Dest | null {
    let least: Dest | null = null;
    let loh = 0;
    for (const d of svc.dests) {
      if (d.overloaded || d.weight === 0) continue;
      if (d.activeConns === 0) return d;
      const doh = sedOverhead(d);
      if (least === null || mulGt(loh, d.weight, doh, least.weight)) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
}

export const createNq: SchedulerFactory = () => new NeverQueue();
