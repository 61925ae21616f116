import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";

export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** GCD of all weights > 0, or 1 when there are none (ip_vs_wrr_gcd_weight). */
function gcdWeight(svc: Service): number {
  let g = 0;
  for (const d of svc.dests) if (d.weight > 0) g = g > 0 ? gcd(d.weight, g) : d.weight;
  return g || 1;
}

function maxWeight(svc: Service): number {
  let w = 0;
  for (const d of svc.dests) if (d.weight > w) w = d.weight;
  return w;
}

/**
 * ip_vs_wrr.c. cl = list index of the current dest (-1 = list head), cw = current weight, mw =
 * max weight - (di - 1), di = gcd. Passes run with cw = mw, mw - di, ... down to 1.
 */
class WeightedRoundRobin implements Scheduler {
  readonly name = "wrr";
  private cl = -1;
  private cw: number;
  private mw: number;
  private di: number;

  constructor(svc: Service) {
    this.di = gcdWeight(svc);
    this.mw = maxWeight(svc) - (this.di - 1);
    this.cw = this.mw;
  }

  schedule(svc: Service, _pkt: SchedPacket, _now: number): Dest | null {
    if (this.mw === 0) return null;
    const list = svc.dests;
    const last = this.cl < list.length ? this.cl : -1;
    let stop = -2;
    let lastPass = false;
    let restarted = false;
    let pos = last;
    for (;;) {
      for (let i = pos + 1; i < list.length; i++) {
        const d = list[i];
        if (!d.overloaded && d.weight >= this.cw) {
          this.cl = i;
          return d;
        }
        if (i === stop) {
          this.cl = i;
          return null;
        }
      }
      pos = -1;
      this.cw -= this.di;
      if (this.cw <= 0) {
        this.cw = this.mw;
        // Every dest was already checked for weight >= 1: give up with the cursor at the head.
        if (lastPass || last === -1) {
          this.cl = -1;
          return null;
        }
        restarted = true;
      }
      lastPass = this.cw <= this.di;
      if (lastPass && restarted && last !== -1) stop = last;
    }
  }

  /** ip_vs_wrr_dest_changed: cursor to head; cw kept unless 0 or > mw, else rounded to di steps. */
  private changed(svc: Service): void {
    this.cl = -1;
    this.di = gcdWeight(svc);
    this.mw = maxWeight(svc) - (this.di - 1);
    if (this.cw > this.mw || this.cw === 0) this.cw = this.mw;
    else if (this.di > 1) this.cw = Math.trunc(this.cw / this.di) * this.di + 1;
  }

  addDest(svc: Service, _dest: Dest): void {
    this.changed(svc);
  }
  delDest(svc: Service, _dest: Dest): void {
    this.changed(svc);
  }
  updDest(svc: Service, _dest: Dest): void {
    this.changed(svc);
  }
}

export const createWrr: SchedulerFactory = (svc) => new WeightedRoundRobin(svc);
