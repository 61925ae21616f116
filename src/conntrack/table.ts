/**
 * The connection table: fixed-size entries in parallel typed arrays (about 80 bytes each), a
 * chained hash on the lookup key (protocol, client addr/port, virtual addr/port, template bit), and
 * expiry timers kept in one FIFO list per timeout value. Entries armed with the same timeout
 * expire in arming order, so each list is sorted by expiry time: arming, re-arming and expiring
 * are O(1). Timeouts that are not shared (entries loaded from a snapshot) go to a binary heap.
 *
 * The table stores; the director decides (binding to destinations, templates, counters).
 */
import type { IpAddr } from "../model/addr.ts";
import type { Dest } from "../model/dest.ts";
import { AddrPool } from "./addr-pool.ts";

/** IP_VS_CONN_F_* bits (include/uapi/linux/ip_vs.h). */
export const CONN_F_FWD_MASK = 0x0007;
export const CONN_F_MASQ = 0x0000;
export const CONN_F_LOCALNODE = 0x0001;
export const CONN_F_TUNNEL = 0x0002;
export const CONN_F_DROUTE = 0x0003;
export const CONN_F_BYPASS = 0x0004;
export const CONN_F_SYNC = 0x0020;
export const CONN_F_NOOUTPUT = 0x0080;
export const CONN_F_INACTIVE = 0x0100;
export const CONN_F_NO_CPORT = 0x0800;
export const CONN_F_TEMPLATE = 0x1000;
export const CONN_F_ONE_PACKET = 0x2000;

const FAM_C_V6 = 1; // client and virtual addresses are IPv6
const FAM_D_V6 = 2; // destination address is IPv6
const NIL = -1;
const CUSTOM_STATE = 255;
const MAX_LISTS = 64;

export interface ConnInit {
  proto: number;
  caddr: IpAddr;
  cport: number;
  /** Virtual address; a firewall-mark template stores the mark as an IPv4 value. */
  vaddr: IpAddr;
  vport: number;
  daddr: IpAddr;
  dport: number;
  flags: number;
  state: number;
  dest: Dest | null;
  fwmark: number;
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

function keyHash(proto: number, c: number, cport: number, v: number, vport: number, tpl: boolean): number {
  let h = mix(c ^ 0x9e3779b9);
  h = mix(h ^ v);
  h = mix(h ^ ((cport << 16) | vport) ^ (proto << 8) ^ (tpl ? 1 : 0));
  return h;
}

export class ConnTable {
  private cap = 0;
  private used = 0;
  private proto = new Uint8Array(0);
  private st = new Uint8Array(0);
  private fam = new Uint8Array(0);
  private live = new Uint8Array(0);
  private flg = new Uint32Array(0);
  private ca = new Uint32Array(0);
  private va = new Uint32Array(0);
  private da = new Uint32Array(0);
  private cp = new Uint16Array(0);
  private vp = new Uint16Array(0);
  private dp = new Uint16Array(0);
  private fwm = new Uint32Array(0);
  private hsh = new Uint32Array(0);
  private hnext = new Int32Array(0);
  private heads = new Int32Array(0);
  private exp = new Float64Array(0);
  private tmo = new Uint32Array(0);
  private tprev = new Int32Array(0);
  private tnext = new Int32Array(0);
  private tlist = new Int16Array(0);
  private gen = new Uint32Array(0);
  private ctl = new Int32Array(0);
  private serial = new Uint32Array(0);
  private nextSerial = 1;
  private nctl = new Uint32Array(0);
  private dst: (Dest | null)[] = [];
  private freeHead = NIL;
  private highWater = 0;
  private readonly pool = new AddrPool();
  /** Rare extras: state names loaded from a snapshot that no state table knows, PE data. */
  private customState = new Map<number, string>();
  private peData = new Map<number, { name: string; data: string }>();
  // Timer lists: one FIFO per timeout value (ms).
  private listOf = new Map<number, number>();
  private listHead: number[] = [];
  private listTail: number[] = [];
  // Heap for irregular timeouts: parallel arrays of (expires, slot, gen).
  private heapExp: number[] = [];
  private heapSlot: number[] = [];
  private heapGen: number[] = [];

  constructor(initialCapacity = 1024) {
    this.grow(Math.max(16, initialCapacity));
  }

  get size(): number {
    return this.used;
  }

  /** Capacity in entries (for memory accounting). */
  get capacity(): number {
    return this.cap;
  }

  private grow(n: number): void {
    const copy = <T extends { length: number; set(a: T): void }>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.proto = copy(this.proto, (k) => new Uint8Array(k));
    this.st = copy(this.st, (k) => new Uint8Array(k));
    this.fam = copy(this.fam, (k) => new Uint8Array(k));
    this.live = copy(this.live, (k) => new Uint8Array(k));
    this.flg = copy(this.flg, (k) => new Uint32Array(k));
    this.ca = copy(this.ca, (k) => new Uint32Array(k));
    this.va = copy(this.va, (k) => new Uint32Array(k));
    this.da = copy(this.da, (k) => new Uint32Array(k));
    this.cp = copy(this.cp, (k) => new Uint16Array(k));
    this.vp = copy(this.vp, (k) => new Uint16Array(k));
    this.dp = copy(this.dp, (k) => new Uint16Array(k));
    this.fwm = copy(this.fwm, (k) => new Uint32Array(k));
    this.hsh = copy(this.hsh, (k) => new Uint32Array(k));
    this.hnext = copy(this.hnext, (k) => new Int32Array(k));
    this.exp = copy(this.exp, (k) => new Float64Array(k));
    this.tmo = copy(this.tmo, (k) => new Uint32Array(k));
    this.tprev = copy(this.tprev, (k) => new Int32Array(k));
    this.tnext = copy(this.tnext, (k) => new Int32Array(k));
    this.tlist = copy(this.tlist, (k) => new Int16Array(k));
    this.gen = copy(this.gen, (k) => new Uint32Array(k));
    this.ctl = copy(this.ctl, (k) => new Int32Array(k));
    this.nctl = copy(this.nctl, (k) => new Uint32Array(k));
    this.serial = copy(this.serial, (k) => new Uint32Array(k));
    this.cap = n;
    this.rehash(n);
  }

  private rehash(n: number): void {
    this.heads = new Int32Array(n).fill(NIL);
    const mask = n - 1;
    for (let i = 0; i < this.highWater; i++) {
      if (!this.live[i]) continue;
      const b = this.hsh[i] & mask;
      this.hnext[i] = this.heads[b];
      this.heads[b] = i;
    }
  }

  private alloc(): number {
    if (this.freeHead !== NIL) {
      const i = this.freeHead;
      this.freeHead = this.hnext[i];
      return i;
    }
    if (this.highWater === this.cap) this.grow(this.cap * 2);
    return this.highWater++;
  }

  /** Insert a new entry (not armed: call arm()). Returns its slot. */
  insert(c: ConnInit): number {
    const i = this.alloc();
    const v6 = c.caddr.af === "inet6";
    const d6 = c.daddr.af === "inet6";
    this.proto[i] = c.proto;
    this.fam[i] = (v6 ? FAM_C_V6 : 0) | (d6 ? FAM_D_V6 : 0);
    this.flg[i] = c.flags;
    this.ca[i] = this.pool.ref(c.caddr);
    this.va[i] = this.pool.ref(c.vaddr);
    this.da[i] = this.pool.ref(c.daddr);
    this.cp[i] = c.cport;
    this.vp[i] = c.vport;
    this.dp[i] = c.dport;
    this.fwm[i] = c.fwmark;
    this.st[i] = c.state;
    this.dst[i] = c.dest;
    this.ctl[i] = NIL;
    this.nctl[i] = 0;
    this.tlist[i] = NIL;
    this.exp[i] = Number.POSITIVE_INFINITY;
    this.live[i] = 1;
    this.serial[i] = this.nextSerial++ >>> 0;
    this.hashIn(i);
    this.used++;
    return i;
  }

  private hashIn(i: number): void {
    const h = keyHash(
      this.proto[i],
      this.ca[i],
      this.cp[i],
      this.va[i],
      this.vp[i],
      (this.flg[i] & CONN_F_TEMPLATE) !== 0,
    );
    this.hsh[i] = h;
    const b = h & (this.cap - 1);
    this.hnext[i] = this.heads[b];
    this.heads[b] = i;
  }

  private hashOut(i: number): void {
    const b = this.hsh[i] & (this.cap - 1);
    let p = this.heads[b];
    if (p === i) {
      this.heads[b] = this.hnext[i];
      return;
    }
    while (p !== NIL) {
      const n = this.hnext[p];
      if (n === i) {
        this.hnext[p] = this.hnext[i];
        return;
      }
      p = n;
    }
  }

  /** Remove an entry entirely (timer, hash, address references). */
  remove(i: number): void {
    if (!this.live[i]) return;
    this.disarm(i);
    this.hashOut(i);
    const f = this.fam[i];
    this.pool.unref(this.ca[i], (f & FAM_C_V6) !== 0);
    this.pool.unref(this.va[i], (f & FAM_C_V6) !== 0);
    this.pool.unref(this.da[i], (f & FAM_D_V6) !== 0);
    this.dst[i] = null;
    this.live[i] = 0;
    this.customState.delete(i);
    this.peData.delete(i);
    this.hnext[i] = this.freeHead;
    this.freeHead = i;
    this.used--;
  }

  /** IPv4 fast path: find an entry by its key words. -1 when absent. */
  lookup4(proto: number, c: number, cport: number, v: number, vport: number, template = false): number {
    return this.find(proto, c, cport, v, vport, template, 0);
  }

  lookup(
    proto: number,
    caddr: IpAddr,
    cport: number,
    vaddr: IpAddr,
    vport: number,
    template = false,
  ): number {
    const v6 = caddr.af === "inet6";
    const c = this.pool.peek(caddr);
    const v = this.pool.peek(vaddr);
    if (c < 0 || v < 0) return NIL;
    return this.find(proto, c, cport, v, vport, template, v6 ? FAM_C_V6 : 0);
  }

  private find(
    proto: number,
    c: number,
    cport: number,
    v: number,
    vport: number,
    tpl: boolean,
    fam: number,
  ): number {
    const h = keyHash(proto, c, cport, v, vport, tpl);
    const tplBit = tpl ? CONN_F_TEMPLATE : 0;
    for (let i = this.heads[h & (this.cap - 1)]; i !== NIL; i = this.hnext[i]) {
      if (
        this.hsh[i] === h &&
        this.ca[i] === c &&
        this.va[i] === v &&
        this.cp[i] === cport &&
        this.vp[i] === vport &&
        this.proto[i] === proto &&
        (this.fam[i] & FAM_C_V6) === fam &&
        (this.flg[i] & CONN_F_TEMPLATE) === tplBit
      )
        return i;
    }
    return NIL;
  }

  /** Change the virtual port / client port / dest port of an entry (template invalidation re-keys). */
  rekey(i: number, cport: number, vport: number, dport: number): void {
    this.hashOut(i);
    this.cp[i] = cport;
    this.vp[i] = vport;
    this.dp[i] = dport;
    this.hashIn(i);
  }

  // --- timers -------------------------------------------------------------------------------

  /** (Re)start the entry's timer: it expires `timeoutMs` after `now`. */
  arm(i: number, timeoutMs: number, now: number): void {
    const at = now + timeoutMs;
    // Every packet re-arms: an entry already on the list of its timeout moves to the tail
    // without the list lookup (a tail entry only gets its new time).
    const cur = this.tlist[i];
    if (cur !== NIL && cur !== MAX_LISTS && this.tmo[i] === timeoutMs) {
      const tail = this.listTail[cur];
      if (this.exp[tail] <= at) {
        if (tail !== i) {
          this.unlink(i, cur);
          this.tprev[i] = tail;
          this.tnext[i] = NIL;
          this.tnext[tail] = i;
          this.listTail[cur] = i;
        }
        this.exp[i] = at;
        return;
      }
    }
    this.disarm(i);
    this.tmo[i] = timeoutMs;
    this.exp[i] = at;
    let l = this.listOf.get(timeoutMs);
    if (l === undefined && this.listHead.length < MAX_LISTS) {
      l = this.listHead.length;
      this.listOf.set(timeoutMs, l);
      this.listHead.push(NIL);
      this.listTail.push(NIL);
    }
    // A list stays sorted only if arming times never go backwards; otherwise use the heap.
    if (l !== undefined && (this.listTail[l] === NIL || this.exp[this.listTail[l]] <= at)) {
      this.tlist[i] = l;
      this.tprev[i] = this.listTail[l];
      this.tnext[i] = NIL;
      if (this.listTail[l] === NIL) this.listHead[l] = i;
      else this.tnext[this.listTail[l]] = i;
      this.listTail[l] = i;
    } else {
      this.tlist[i] = MAX_LISTS; // heap
      this.heapPush(at, i, ++this.gen[i]);
    }
  }

  /** Stop the entry's timer (it will not expire until armed again). */
  disarm(i: number): void {
    const l = this.tlist[i];
    if (l === NIL) return;
    if (l === MAX_LISTS)
      this.gen[i]++; // the heap entry goes stale
    else this.unlink(i, l);
    this.tlist[i] = NIL;
    this.exp[i] = Number.POSITIVE_INFINITY;
  }

  private unlink(i: number, l: number): void {
    const p = this.tprev[i];
    const n = this.tnext[i];
    if (p === NIL) this.listHead[l] = n;
    else this.tnext[p] = n;
    if (n === NIL) this.listTail[l] = p;
    else this.tprev[n] = p;
  }

  /** Earliest expiry time among armed entries (Infinity when none). */
  nextExpiry(): number {
    let best = Number.POSITIVE_INFINITY;
    for (const h of this.listHead) if (h !== NIL && this.exp[h] < best) best = this.exp[h];
    this.heapClean();
    if (this.heapSlot.length && this.heapExp[0] < best) best = this.heapExp[0];
    return best;
  }

  /**
   * Take the earliest entry due at or before `now` off its timer and return it (-1 when none).
   * The caller removes it or arms it again.
   */
  popDue(now: number): number {
    let bestI = NIL;
    let best = Number.POSITIVE_INFINITY;
    for (const h of this.listHead)
      if (h !== NIL && this.exp[h] < best) {
        best = this.exp[h];
        bestI = h;
      }
    this.heapClean();
    if (this.heapSlot.length && this.heapExp[0] < best) {
      best = this.heapExp[0];
      bestI = this.heapSlot[0];
    }
    if (bestI === NIL || best > now) return NIL;
    this.disarm(bestI);
    return bestI;
  }

  private heapPush(at: number, slot: number, g: number): void {
    const e = this.heapExp;
    const s = this.heapSlot;
    const gg = this.heapGen;
    let k = e.length;
    e.push(at);
    s.push(slot);
    gg.push(g);
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (e[p] <= at) break;
      e[k] = e[p];
      s[k] = s[p];
      gg[k] = gg[p];
      k = p;
    }
    e[k] = at;
    s[k] = slot;
    gg[k] = g;
  }

  private heapPop(): void {
    const e = this.heapExp;
    const s = this.heapSlot;
    const gg = this.heapGen;
    const lastE = e.pop()!;
    const lastS = s.pop()!;
    const lastG = gg.pop()!;
    const n = e.length;
    if (n === 0) return;
    let k = 0;
    for (;;) {
      let c = 2 * k + 1;
      if (c >= n) break;
      if (c + 1 < n && e[c + 1] < e[c]) c++;
      if (e[c] >= lastE) break;
      e[k] = e[c];
      s[k] = s[c];
      gg[k] = gg[c];
      k = c;
    }
    e[k] = lastE;
    s[k] = lastS;
    gg[k] = lastG;
  }

  /** Drop stale heap tops (entries re-armed, disarmed or removed since they were pushed). */
  private heapClean(): void {
    while (this.heapSlot.length) {
      const i = this.heapSlot[0];
      if (this.live[i] && this.tlist[i] === MAX_LISTS && this.gen[i] === this.heapGen[0]) return;
      this.heapPop();
    }
  }

  // --- fields -------------------------------------------------------------------------------

  /** A number that tells this entry from a later one in the same slot. */
  serialOf(i: number): number {
    return this.serial[i];
  }
  isLive(i: number): boolean {
    return i >= 0 && i < this.highWater && this.live[i] === 1;
  }
  protoOf(i: number): number {
    return this.proto[i];
  }
  flags(i: number): number {
    return this.flg[i];
  }
  setFlags(i: number, f: number): void {
    this.flg[i] = f;
  }
  state(i: number): number {
    return this.st[i];
  }
  setState(i: number, s: number): void {
    this.st[i] = s;
    this.customState.delete(i);
  }
  /** A state name loaded from a snapshot that no table knows; kept for display only. */
  setCustomState(i: number, name: string): void {
    this.st[i] = CUSTOM_STATE;
    this.customState.set(i, name);
  }
  customStateName(i: number): string | undefined {
    return this.customState.get(i);
  }
  dest(i: number): Dest | null {
    return this.dst[i];
  }
  setDest(i: number, d: Dest | null): void {
    this.dst[i] = d;
  }
  caddr(i: number): IpAddr {
    return this.pool.get(this.ca[i], (this.fam[i] & FAM_C_V6) !== 0);
  }
  vaddr(i: number): IpAddr {
    return this.pool.get(this.va[i], (this.fam[i] & FAM_C_V6) !== 0);
  }
  daddr(i: number): IpAddr {
    return this.pool.get(this.da[i], (this.fam[i] & FAM_D_V6) !== 0);
  }
  cport(i: number): number {
    return this.cp[i];
  }
  vport(i: number): number {
    return this.vp[i];
  }
  dport(i: number): number {
    return this.dp[i];
  }
  fwmark(i: number): number {
    return this.fwm[i];
  }
  expires(i: number): number {
    return this.exp[i];
  }
  timeout(i: number): number {
    return this.tmo[i];
  }
  setTimeout(i: number, ms: number): void {
    this.tmo[i] = ms;
  }
  control(i: number): number {
    return this.ctl[i];
  }
  setControl(i: number, t: number): void {
    this.ctl[i] = t;
  }
  nControl(i: number): number {
    return this.nctl[i];
  }
  addControlled(t: number, delta: number): void {
    this.nctl[t] += delta;
  }
  setPe(i: number, name: string, data: string): void {
    this.peData.set(i, { name, data });
  }
  pe(i: number): { name: string; data: string } | undefined {
    return this.peData.get(i);
  }

  /** Live entries in slot order (insertion order until slots are reused). */
  *slots(): IterableIterator<number> {
    for (let i = 0; i < this.highWater; i++) if (this.live[i]) yield i;
  }
}
