import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import { type CacheEntry, DEFAULT_EXPIRATION_S, LocalityCache, lblcOverloaded } from "./lblc.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";
import { connOverhead, mulGt, wlcPick } from "./wlc.ts";

interface LblcrEntry extends CacheEntry {
  /** The replication set, newest member first (list_add_rcu). */
  set: Dest[];
  lastmod: number;
}

/**
 * ip_vs_dest_set_min: the first member that is not OVERLOAD, has weight > 0 and is AVAILABLE;
 * later non-OVERLOAD members replace it on loh * w(d) > doh * w(least) when AVAILABLE.
 */
function setMin(set: readonly Dest[]): Dest | null {
  let i = 0;
  let least: Dest | null = null;
  for (; i < set.length; i++) {
    const d = set[i];
    if (d.overloaded) continue;
    if (d.weight > 0 && d.available) {
      least = d;
      break;
    }
  }
  if (least === null) return null;
  let loh = connOverhead(least);
  for (i++; i < set.length; i++) {
    const d = set[i];
    if (d.overloaded) continue;
    const doh = connOverhead(d);
    if (mulGt(loh, d.weight, doh, least.weight) && d.available) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/** ip_vs_dest_set_max: the weighted most loaded member with weight > 0 (flags not checked). */
function setMax(set: readonly Dest[]): Dest | null {
  let i = 0;
  let most: Dest | null = null;
  for (; i < set.length; i++) {
    if (set[i].weight > 0) {
      most = set[i];
      break;
    }
  }
  if (most === null) return null;
  let moh = connOverhead(most);
  for (i++; i < set.length; i++) {
    const d = set[i];
    const doh = connOverhead(d);
    if (mulGt(doh, most.weight, moh, d.weight) && d.weight > 0) {
      most = d;
      moh = doh;
    }
  }
  return most;
}

/**
 * ip_vs_lblcr.c. A cache hit takes the set minimum; if the set has more than one member and was
 * last modified more than the expiration ago, its most loaded member is dropped (after the
 * minimum was chosen). If the minimum is missing or lblc-overloaded, a wlc pick over the service
 * joins the set.
 */
class LocalityLeastConnRepl implements Scheduler {
  readonly name = "lblcr";
  private readonly cache: LocalityCache<LblcrEntry>;

  constructor(
    now: number,
    private readonly expirationMs: number,
  ) {
    this.cache = new LocalityCache(now, expirationMs);
  }

  schedule(svc: Service, pkt: SchedPacket, now: number): Dest | null {
    this.cache.runTimers(now);
    const en = this.cache.get(pkt.daddr);
    if (en) return this.fromEntry(svc, en, now);
    const dest = wlcPick(svc.dests);
    if (dest === null) return null;
    this.cache.insert(pkt.daddr, { key: pkt.daddr.text, set: [dest], lastmod: now, lastuse: now });
    return dest;
  }

  private fromEntry(svc: Service, en: LblcrEntry, now: number): Dest | null {
    en.lastuse = now;
    let dest = setMin(en.set);
    if (en.set.length > 1 && now > en.lastmod + this.expirationMs) {
      const m = setMax(en.set);
      if (m) {
        en.set.splice(en.set.indexOf(m), 1);
        en.lastmod = now;
      }
    }
    if (dest && !lblcOverloaded(dest, svc)) return dest;
    dest = wlcPick(svc.dests);
    if (dest === null) return null;
    if (!en.set.includes(dest)) {
      en.set.unshift(dest);
      en.lastmod = now;
    }
    return dest;
  }

  tick(_svc: Service, now: number): void {
    this.cache.runTimers(now);
  }
  done(_svc: Service): void {
    this.cache.flush();
  }
  cachedEntries(): number {
    return this.cache.size();
  }
}

export function lblcrWith(expirationS: number = DEFAULT_EXPIRATION_S): SchedulerFactory {
  return (_svc, now) => new LocalityLeastConnRepl(now, expirationS * 1000);
}

export const createLblcr: SchedulerFactory = lblcrWith();
