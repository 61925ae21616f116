import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";

/** Usable for rr/wrr-style schedulers: not OVERLOAD and weight > 0. */
export function usable(d: Dest): boolean {
  return !d.overloaded && d.weight > 0;
}

/**
 * ip_vs_rr.c. The cursor is a list position: null = the list head. A pick scans from the entry
 * after the cursor to the list end, then (only if the cursor is a real dest) from the list start
 * up to and including the cursor. New dests enter at the front, so they are reached only after the
 * scan wraps.
 */
class RoundRobin implements Scheduler {
  readonly name = "rr";
  private cursor: Dest | null = null;
  /** Cached index of `cursor` in svc.dests (revalidated on use). */
  private idx = -1;

  private cursorIndex(svc: Service): number {
    if (this.cursor === null) return -1;
    if (svc.dests[this.idx] !== this.cursor) this.idx = svc.dests.indexOf(this.cursor);
    if (this.idx < 0) this.cursor = null;
    return this.idx;
  }

  schedule(svc: Service, _pkt: SchedPacket, _now: number): Dest | null {
    const list = svc.dests;
    const cur = this.cursorIndex(svc);
    for (let i = cur + 1; i < list.length; i++) if (usable(list[i])) return this.take(list[i], i);
    for (let i = 0; i <= cur; i++) if (usable(list[i])) return this.take(list[i], i);
    return null;
  }

  private take(d: Dest, i: number): Dest {
    this.cursor = d;
    this.idx = i;
    return d;
  }

  addDest(svc: Service, _dest: Dest): void {
    this.cursorIndex(svc);
  }

  /** Kernel ip_vs_rr_del_dest: a cursor on the deleted dest moves back to its predecessor. */
  delDest(svc: Service, dest: Dest): void {
    if (this.cursor !== dest) {
      this.cursorIndex(svc);
      return;
    }
    const prev = this.idx - 1;
    this.cursor = prev >= 0 ? svc.dests[prev] : null;
    this.idx = prev;
  }
}

export const createRr: SchedulerFactory = () => new RoundRobin();
