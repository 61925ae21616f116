import { addrFold } from "../model/addr.ts";
import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import { hash32 } from "./hash.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";

export const DH_TAB_BITS = 8;
const DH_TAB_SIZE = 1 << DH_TAB_BITS;

/** ip_vs_dh_hashkey: hash_32 of the folded packet destination address. */
export function dhBucket(daddrFold: number): number {
  return hash32(daddrFold, DH_TAB_BITS);
}

/**
 * ip_vs_dh.c. 256 buckets filled with the dests in list order, one bucket each, cyclically
 * (weights ignored). Rebuilt on add and delete only: the kernel registers no upd_dest hook.
 */
class DestinationHashing implements Scheduler {
  readonly name = "dh";
  private readonly buckets: (Dest | null)[] = new Array(DH_TAB_SIZE).fill(null);

  constructor(svc: Service) {
    this.reassign(svc);
  }

  private reassign(svc: Service): void {
    const list = svc.dests;
    for (let i = 0; i < DH_TAB_SIZE; i++) this.buckets[i] = list.length ? list[i % list.length] : null;
  }

  schedule(_svc: Service, pkt: SchedPacket, _now: number): Dest | null {
    const d = this.buckets[dhBucket(addrFold(pkt.daddr))];
    if (d === null || !d.available || d.weight <= 0 || d.overloaded) return null;
    return d;
  }

  addDest(svc: Service, _dest: Dest): void {
    this.reassign(svc);
  }
  delDest(svc: Service, _dest: Dest): void {
    this.reassign(svc);
  }
  done(_svc: Service): void {
    this.buckets.fill(null);
  }
  /** The dest owning bucket `i` (read-only; reload plans compare tables with it). */
  bucket(i: number): Dest | null {
    return this.buckets[i] ?? null;
  }
}

export const createDh: SchedulerFactory = (svc) => new DestinationHashing(svc);
