import { addrFold, type IpAddr } from "../model/addr.ts";
import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import { hash32 } from "./hash.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";
import { wlcPick } from "./wlc.ts";

export const LBLC_TAB_BITS = 10;
const TAB_SIZE = 1 << LBLC_TAB_BITS;
const TAB_MASK = TAB_SIZE - 1;
/** The GC timer period (CHECK_EXPIRE_INTERVAL) and the idle age a GC pass may collect. */
export const CHECK_EXPIRE_INTERVAL_MS = 60_000;
export const ENTRY_TIMEOUT_MS = 6 * 60_000;
/** Default of the lblc_expiration / lblcr_expiration sysctls, in seconds. */
export const DEFAULT_EXPIRATION_S = 24 * 60 * 60;
const COUNT_FOR_FULL_EXPIRATION = 30;
const MAX_SIZE = TAB_SIZE * 16;

export interface CacheEntry {
  /** The packet destination address (canonical text). */
  readonly key: string;
  lastuse: number;
}

/** ip_vs_lblc(r)_hashkey: hash_32 of the folded destination address, 10 bits. */
export function lblcBucket(addr: IpAddr): number {
  return hash32(addrFold(addr), LBLC_TAB_BITS);
}

/**
 * The lblc/lblcr cache: 1024 hash chains (new entries at the chain head) plus the periodic
 * garbage collector. The timer first fires 60 s after creation and re-arms itself every 60 s;
 * every 30th firing is a full check dropping entries unused for the expiration time, otherwise
 * entries idle >= 6 min are collected only while the table holds more than 16384 entries.
 */
export class LocalityCache<E extends CacheEntry> {
  private readonly buckets: E[][] = Array.from({ length: TAB_SIZE }, () => []);
  /** tbl->entries; lblc's replace path does not decrement it (kernel quirk, kept). */
  entries = 0;
  private rover = 0;
  private counter = 1;
  private nextCheck: number;

  constructor(
    now: number,
    private readonly expirationMs: number,
  ) {
    this.nextCheck = now + CHECK_EXPIRE_INTERVAL_MS;
  }

  get(addr: IpAddr): E | undefined {
    for (const e of this.buckets[lblcBucket(addr)]) if (e.key === addr.text) return e;
    return undefined;
  }

  insert(addr: IpAddr, e: E): void {
    this.buckets[lblcBucket(addr)].unshift(e);
    this.entries++;
  }

  /** Unlink an entry; `count` says whether the caller also decrements the entry counter. */
  unlink(addr: IpAddr, e: E, count: boolean): void {
    const chain = this.buckets[lblcBucket(addr)];
    const i = chain.indexOf(e);
    if (i >= 0) chain.splice(i, 1);
    if (count) this.entries--;
  }

  size(): number {
    let n = 0;
    for (const c of this.buckets) n += c.length;
    return n;
  }

  /** Run every timer expiry due at or before `now`, each at its own firing time. */
  runTimers(now: number): void {
    while (now >= this.nextCheck) {
      this.checkExpire(this.nextCheck);
      this.nextCheck += CHECK_EXPIRE_INTERVAL_MS;
    }
  }

  private checkExpire(now: number): void {
    if (this.counter % COUNT_FOR_FULL_EXPIRATION === 0) {
      this.sweep(now, this.expirationMs, Number.POSITIVE_INFINITY);
      this.counter = 1;
      return;
    }
    if (this.entries <= MAX_SIZE) {
      this.counter++;
      return;
    }
    const goal = Math.min(Math.trunc(((this.entries - MAX_SIZE) * 4) / 3), MAX_SIZE / 2);
    this.sweep(now, ENTRY_TIMEOUT_MS, goal);
  }

  /** Scan chains from rover+1, dropping entries with now >= lastuse + age; stop after a chain once goal is met. */
  private sweep(now: number, age: number, goal: number): void {
    let j = this.rover;
    for (let i = 0; i < TAB_SIZE; i++) {
      j = (j + 1) & TAB_MASK;
      const chain = this.buckets[j];
      const keep = chain.filter((e) => now < e.lastuse + age);
      const freed = chain.length - keep.length;
      this.buckets[j] = keep;
      this.entries -= freed;
      goal -= freed;
      if (goal <= 0) break;
    }
    this.rover = j;
  }

  flush(): void {
    for (let i = 0; i < TAB_SIZE; i++) this.buckets[i] = [];
    this.entries = 0;
  }
}

/**
 * The lblc/lblcr "overloaded" test: more active connections than the weight while some dest of
 * the service runs below half its weight. The threshold OVERLOAD flag plays no part.
 */
export function lblcOverloaded(dest: Dest, svc: Service): boolean {
  if (dest.activeConns <= dest.weight) return false;
  for (const d of svc.dests) if (d.activeConns * 2 < d.weight) return true;
  return false;
}

interface LblcEntry extends CacheEntry {
  dest: Dest;
}

/**
 * ip_vs_lblc.c: a cache hit refreshes lastuse and returns the cached dest while it is AVAILABLE,
 * weight > 0 and not lblc-overloaded (even if it carries the OVERLOAD flag); otherwise a wlc pick
 * replaces the entry (unless it picked the same dest).
 */
class LocalityLeastConn implements Scheduler {
  readonly name = "lblc";
  private readonly cache: LocalityCache<LblcEntry>;

  constructor(now: number, expirationS: number) {
    this.cache = new LocalityCache(now, expirationS * 1000);
  }

  schedule(svc: Service, pkt: SchedPacket, now: number): Dest | null {
    this.cache.runTimers(now);
    const en = this.cache.get(pkt.daddr);
    if (en) {
      en.lastuse = now;
      const d = en.dest;
      if (d.available && d.weight > 0 && !lblcOverloaded(d, svc)) return d;
    }
    const dest = wlcPick(svc.dests);
    if (dest === null) return null;
    if (en) {
      if (en.dest === dest) return dest;
      this.cache.unlink(pkt.daddr, en, false);
    }
    this.cache.insert(pkt.daddr, { key: pkt.daddr.text, dest, lastuse: now });
    return dest;
  }

  tick(_svc: Service, now: number): void {
    this.cache.runTimers(now);
  }
  done(_svc: Service): void {
    this.cache.flush();
  }
  /** Number of cached addresses (for tests and status output). */
  cachedEntries(): number {
    return this.cache.size();
  }
}

export function lblcWith(expirationS: number = DEFAULT_EXPIRATION_S): SchedulerFactory {
  return (_svc, now) => new LocalityLeastConn(now, expirationS);
}

export const createLblc: SchedulerFactory = lblcWith();
