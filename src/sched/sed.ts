import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";
import { wlcPick } from "./wlc.ts";

/** ip_vs_sed_dest_overhead: expected delay counts active connections only, plus the new one. */
export function sedOverhead(d: Dest): number {
  return (d.activeConns + 1) | 0;
}

/** ip_vs_sed.c: wlc's scan and tie-breaking with overhead = activeconns + 1. */
class ShortestExpectedDelay implements Scheduler {
  readonly name = "sed";
  schedule(svc: Service, _pkt: SchedPacket, _now: number): Dest | null {
    return wlcPick(svc.dests, "sed");
  }
}

export const createSed: SchedulerFactory = () => new ShortestExpectedDelay();
