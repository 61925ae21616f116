import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";
import { connOverhead } from "./wlc.ts";

/** A source of uniformly distributed u32 values (the kernel uses get_random_u32()). */
export type RandomU32 = () => number;

/** mulberry32: a small, fast, seedable u32 PRNG (deterministic for tests and `uvs simulate`). */
export function seededRandom(seed: number): RandomU32 {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Default source: mulberry32 seeded once from crypto.getRandomValues (not reproducible). */
export function defaultRandom(): RandomU32 {
  return seededRandom(crypto.getRandomValues(new Uint32Array(1))[0]);
}

function eligible(d: Dest): boolean {
  return !d.overloaded && d.weight > 0;
}

/**
 * ip_vs_twos.c: r1, r2 = rand % (total + 1), i.e. uniform in [0, total] inclusive; walking the
 * eligible dests, each weight is subtracted from both and the first dest driving r <= 0 is that
 * choice. choice2 wins only if weight2 * overhead1 > weight1 * overhead2 (C int products).
 */
class PowerOfTwo implements Scheduler {
  readonly name = "twos";
  constructor(private readonly random: RandomU32) {}

  schedule(svc: Service, _pkt: SchedPacket, _now: number): Dest | null {
    const list = svc.dests;
    let total = 0;
    let any = false;
    for (const d of list) {
      if (!eligible(d)) continue;
      total = (total + d.weight) | 0;
      any = true;
    }
    if (!any) return null;
    const mod = ((total + 1) | 0) >>> 0;
    let r1 = ((this.random() >>> 0) % mod) | 0;
    let r2 = ((this.random() >>> 0) % mod) | 0;
    let c1: Dest | null = null;
    let c2: Dest | null = null;
    for (const d of list) {
      if (!eligible(d)) continue;
      r1 = (r1 - d.weight) | 0;
      r2 = (r2 - d.weight) | 0;
      if (r1 <= 0 && c1 === null) c1 = d;
      if (r2 <= 0 && c2 === null) c2 = d;
      if (c1 !== null && c2 !== null) break;
    }
    if (c1 === null) return c2;
    if (c2 === null) return c1;
    const better = Math.imul(c2.weight, connOverhead(c1)) > Math.imul(c1.weight, connOverhead(c2));
    return better ? c2 : c1;
  }
}

/** A twos factory drawing from `random` (two draws per pick, r1 first). */
export function twosWith(random: RandomU32): SchedulerFactory {
  return () => new PowerOfTwo(random);
}

export const createTwos: SchedulerFactory = (svc, now) => twosWith(defaultRandom())(svc, now);
