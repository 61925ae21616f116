/**
 * NAT replies are found by the real server's side of the flow: (proto, rip, rport, cip, cport), as
 * the kernel's out-direction hash. The connection table hashes only the client side, so this index
 * keeps its own chained hash whose entries ARE the connection slots (one array cell per slot), and
 * each records the serial of the entry it was made for: a slot reused by a later entry never
 * matches a stale key.
 */
const NIL = -1;

function hash(proto: number, rip: number, rport: number, cip: number, cport: number): number {
  let h = Math.imul(rip ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ cip ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ ((rport << 16) | cport) ^ (proto << 8) ^ (h >>> 16), 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}

export class OutIndex {
  private heads: Int32Array;
  private next = new Int32Array(0);
  private linked = new Uint8Array(0);
  private proto = new Uint8Array(0);
  private rip = new Uint32Array(0);
  private cip = new Uint32Array(0);
  private rport = new Uint16Array(0);
  private cport = new Uint16Array(0);
  private serial = new Uint32Array(0);
  private bucketOf = new Uint32Array(0);
  private count = 0;

  constructor(buckets = 4096) {
    this.heads = new Int32Array(buckets).fill(NIL);
  }

  get size(): number {
    return this.count;
  }

  private ensure(slot: number): void {
    if (slot < this.next.length) return;
    const n = Math.max(slot + 1, this.next.length * 2, 1024);
    const grow = <T extends Int32Array | Uint8Array | Uint16Array | Uint32Array>(
      a: T,
      make: (k: number) => T,
    ) => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.next = grow(this.next, (k) => new Int32Array(k));
    this.linked = grow(this.linked, (k) => new Uint8Array(k));
    this.proto = grow(this.proto, (k) => new Uint8Array(k));
    this.rip = grow(this.rip, (k) => new Uint32Array(k));
    this.cip = grow(this.cip, (k) => new Uint32Array(k));
    this.rport = grow(this.rport, (k) => new Uint16Array(k));
    this.cport = grow(this.cport, (k) => new Uint16Array(k));
    this.serial = grow(this.serial, (k) => new Uint32Array(k));
    this.bucketOf = grow(this.bucketOf, (k) => new Uint32Array(k));
    if (n > this.heads.length * 2) this.rehash(this.heads.length * 4);
  }

  private rehash(buckets: number): void {
    this.heads = new Int32Array(buckets).fill(NIL);
    for (let i = 0; i < this.linked.length; i++) {
      if (!this.linked[i]) continue;
      const b = hash(this.proto[i], this.rip[i], this.rport[i], this.cip[i], this.cport[i]) & (buckets - 1);
      this.bucketOf[i] = b;
      this.next[i] = this.heads[b];
      this.heads[b] = i;
    }
  }

  /** Index connection `slot` (entry `serial`) under its reply key. */
  add(
    slot: number,
    serial: number,
    proto: number,
    rip: number,
    rport: number,
    cip: number,
    cport: number,
  ): void {
    this.ensure(slot);
    this.remove(slot);
    this.proto[slot] = proto;
    this.rip[slot] = rip;
    this.rport[slot] = rport;
    this.cip[slot] = cip;
    this.cport[slot] = cport;
    this.serial[slot] = serial;
    const b = hash(proto, rip, rport, cip, cport) & (this.heads.length - 1);
    this.bucketOf[slot] = b;
    this.next[slot] = this.heads[b];
    this.heads[b] = slot;
    this.linked[slot] = 1;
    this.count++;
  }

  /** Forget `slot` (its entry expired); a slot not indexed is ignored. */
  remove(slot: number): void {
    if (slot >= this.linked.length || !this.linked[slot]) return;
    const b = this.bucketOf[slot];
    let p = this.heads[b];
    if (p === slot) this.heads[b] = this.next[slot];
    else
      while (p !== NIL) {
        if (this.next[p] === slot) {
          this.next[p] = this.next[slot];
          break;
        }
        p = this.next[p];
      }
    this.linked[slot] = 0;
    this.count--;
  }

  /**
   * The slot of the reply key, or -1. `live(slot, serial)` confirms the entry is still the one
   * indexed; a stale one is unlinked on the way.
   */
  find(
    proto: number,
    rip: number,
    rport: number,
    cip: number,
    cport: number,
    live: (slot: number, serial: number) => boolean,
  ): number {
    const b = hash(proto, rip, rport, cip, cport) & (this.heads.length - 1);
    for (let i = this.heads[b]; i !== NIL; i = this.next[i]) {
      if (
        this.rip[i] === rip &&
        this.cip[i] === cip &&
        this.rport[i] === rport &&
        this.cport[i] === cport &&
        this.proto[i] === proto
      ) {
        if (live(i, this.serial[i])) return i;
        this.remove(i);
        return NIL;
      }
    }
    return NIL;
  }
}
