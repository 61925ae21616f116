import { addrFold } from "../model/addr.ts";
import type { Dest } from "../model/dest.ts";
import { type Service, SVC_F_SCHED1, SVC_F_SCHED2 } from "../model/service.ts";
import { hash32 } from "./hash.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";

export const SH_TAB_BITS = 8;
const SH_TAB_SIZE = 1 << SH_TAB_BITS;
const SH_TAB_MASK = SH_TAB_SIZE - 1;
/** IP_VS_SVC_F_SCHED_SH_FALLBACK / _SH_PORT. */
export const SH_FALLBACK = SVC_F_SCHED1;
export const SH_PORT = SVC_F_SCHED2;

/** ip_vs_sh_hashkey: (offset + hash_32(port + addr_fold, 8)) & 255, all u32 arithmetic. */
export function shHashkey(addrFoldValue: number, port: number, offset: number): number {
  return (offset + hash32((port + addrFoldValue) >>> 0, SH_TAB_BITS)) & SH_TAB_MASK;
}

function unusable(d: Dest): boolean {
  return d.weight <= 0 || d.overloaded;
}

/**
 * ip_vs_sh.c. Buckets 0..255 are filled walking the list cyclically; a dest keeps receiving
 * buckets until it has `weight` of them (weight 0 still gets one). Rebuilt on add, delete and
 * update.
 */
class SourceHashing implements Scheduler {
  readonly name = "sh";
  private readonly buckets: (Dest | null)[] = new Array(SH_TAB_SIZE).fill(null);

  constructor(svc: Service) {
    this.reassign(svc);
  }

  private reassign(svc: Service): void {
    const list = svc.dests;
    let p = 0;
    let count = 0;
    for (let i = 0; i < SH_TAB_SIZE; i++) {
      if (list.length === 0) {
        this.buckets[i] = null;
        continue;
      }
      const d = list[p];
      this.buckets[i] = d;
      if (++count >= d.weight) {
        p = (p + 1) % list.length;
        count = 0;
      }
    }
  }

  schedule(svc: Service, pkt: SchedPacket, _now: number): Dest | null {
    const port = svc.flags & SH_PORT ? pkt.sport : 0;
    const fold = addrFold(pkt.saddr);
    const ihash = shHashkey(fold, port, 0);
    const d = this.buckets[ihash];
    if (d === null) return null;
    if (!unusable(d)) return d;
    if (!(svc.flags & SH_FALLBACK)) return null;
    // Fallback: probe offsets ihash, ihash+1, ... (bucket (k + 2*ihash) & 255); an empty bucket ends it.
    for (let k = 0; k < SH_TAB_SIZE; k++) {
      const alt = this.buckets[shHashkey(fold, port, (k + ihash) % SH_TAB_SIZE)];
      if (alt === null) return null;
      if (!unusable(alt)) return alt;
    }
    return null;
  }

  addDest(svc: Service, _dest: Dest): void {
    this.reassign(svc);
  }
  delDest(svc: Service, _dest: Dest): void {
    this.reassign(svc);
  }
  updDest(svc: Service, _dest: Dest): void {
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

export const createSh: SchedulerFactory = (svc) => new SourceHashing(svc);
