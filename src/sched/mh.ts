import { addrFold } from "../model/addr.ts";
import type { Dest } from "../model/dest.ts";
import { type Service, SVC_F_SCHED1, SVC_F_SCHED2 } from "../model/service.ts";
import { hsiphashU32, type SipState, sipInit } from "./hash.ts";
import type { SchedPacket, Scheduler, SchedulerFactory } from "./scheduler.ts";
import { gcd } from "./wrr.ts";

/** primes[CONFIG_IP_VS_MH_TAB_INDEX - 8] with the default index 12. */
export const MH_TAB_SIZE = 4093;
const MH_TAB_BITS = 6; // CONFIG_IP_VS_MH_TAB_INDEX / 2
export const MH_FALLBACK = SVC_F_SCHED1;
export const MH_PORT = SVC_F_SCHED2;

/** generate_hash_secret: fixed keys, (2654435761, 2654435761) and (2654446892, 2654446892). */
export const MH_HASH1: SipState = sipInit({ k0: 2654435761n, k1: 2654435761n });
export const MH_HASH2: SipState = sipInit({ k0: 2654446892n, k1: 2654446892n });

/** ip_vs_mh_hashkey: hsiphash of the u32 offset + port + addr_fold. */
export function mhHashkey(key: SipState, addrFoldValue: number, port: number, offset: number): number {
  return hsiphashU32(key, (offset + port + addrFoldValue) >>> 0);
}

/** The kernel folds with the SERVICE family: an IPv6 dest of an IPv4 service hashes its first word. */
function foldAs(svc: Service, a: Dest["addr"]): number {
  return svc.af === "inet" ? a.words[0] : addrFold(a);
}

function unusable(d: Dest): boolean {
  return d.weight <= 0 || d.overloaded;
}

/** fls(x): 1-based index of the highest set bit, 0 for 0. */
function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

interface Setup {
  offset: number;
  skip: number;
  perm: number;
  turns: number;
}

/**
 * ip_vs_mh.c (Maglev). The table is built from last_weight, so quiescing a dest (weight 0) keeps
 * its slots; lookups then fail or fall back. Rebuilt on add, delete and update.
 */
class MaglevHashing implements Scheduler {
  readonly name = "mh";
  private readonly table: (Dest | null)[] = new Array(MH_TAB_SIZE).fill(null);

  constructor(svc: Service) {
    this.reassign(svc);
  }

  private reassign(svc: Service): void {
    const list = svc.dests;
    if (list.length > MH_TAB_SIZE) return; // the kernel refuses (EINVAL) and keeps the old table
    let g = 0;
    let maxLw = 0;
    for (const d of list) {
      if (d.lastWeight > 0) g = g > 0 ? gcd(d.lastWeight, g) : d.lastWeight;
      if (d.lastWeight > maxLw) maxLw = d.lastWeight;
    }
    this.table.fill(null);
    if (g < 1) return;
    const rshift = Math.max(0, fls(Math.trunc(maxLw / g)) - MH_TAB_BITS);
    this.populate(
      list,
      list.map((d) => this.permutation(foldAs(svc, d.addr), d, g, rshift)),
    );
  }

  private permutation(fold: number, d: Dest, g: number, rshift: number): Setup {
    const offset = mhHashkey(MH_HASH1, fold, d.port, 0) % MH_TAB_SIZE;
    const skip = (mhHashkey(MH_HASH2, fold, d.port, 0) % (MH_TAB_SIZE - 1)) + 1;
    const lw = d.lastWeight;
    const turns = Math.trunc(lw / g) >> rshift || (lw !== 0 ? 1 : 0);
    return { offset, skip, perm: offset, turns };
  }

  /** Passes over the list; each dest claims its next free preferred slot `turns` times in a row. */
  private populate(list: readonly Dest[], setup: Setup[]): void {
    const taken = new Uint8Array(MH_TAB_SIZE);
    let n = 0;
    let count = 0;
    for (;;) {
      for (let i = 0; i < list.length; ) {
        const ds = setup[i];
        if (ds.turns < 1) {
          i++;
          continue;
        }
        while (taken[ds.perm]) {
          ds.perm += ds.skip;
          if (ds.perm >= MH_TAB_SIZE) ds.perm -= MH_TAB_SIZE;
        }
        taken[ds.perm] = 1;
        this.table[ds.perm] = list[i];
        if (++n === MH_TAB_SIZE) return;
        if (++count >= ds.turns) {
          count = 0;
          i++;
        }
      }
    }
  }

  schedule(svc: Service, pkt: SchedPacket, _now: number): Dest | null {
    const port = svc.flags & MH_PORT ? pkt.sport : 0;
    const fold = addrFold(pkt.saddr);
    const ihash = mhHashkey(MH_HASH1, fold, port, 0) % MH_TAB_SIZE;
    const d = this.table[ihash];
    if (d === null) return null;
    if (!unusable(d)) return d;
    if (!(svc.flags & MH_FALLBACK)) return null;
    // Fallback: rehash with offsets ihash, ihash+1, ... (mod M); an empty slot ends the search.
    for (let k = 0; k < MH_TAB_SIZE; k++) {
      const roffset = (k + ihash) % MH_TAB_SIZE;
      const alt = this.table[mhHashkey(MH_HASH1, fold, port, roffset) % MH_TAB_SIZE];
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
    this.table.fill(null);
  }
  /** The dest owning lookup slot `i` (for tests and diagnostics). */
  slot(i: number): Dest | null {
    return this.table[i];
  }
}

export type { MaglevHashing };

export const createMh: SchedulerFactory = (svc) => new MaglevHashing(svc);
