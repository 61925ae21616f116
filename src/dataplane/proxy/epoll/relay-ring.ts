/**
 * A single-producer, single-consumer ring of records over a SharedArrayBuffer, between the main
 * thread and one relay thread (relay.ts, relay-worker.ts). A record is REC_WORDS int32 words
 * (kind and arguments) and optionally bytes (the rest of a partial send). Head and tail are word
 * offsets into the data area. No locks: the producer writes the record, then publishes the head
 * with Atomics.store; the consumer reads it, then publishes the tail.
 */

const HEAD = 0;
const TAIL = 1;
const DATA = 4; // words before the data area
/** Words in a record's header: kind, payload length in bytes, then up to 6 arguments. */
export const REC_WORDS = 8;
/** A record that only says "continue at the start of the data area". */
const WRAP = -1;

export interface RingRecord {
  kind: number;
  /** Arguments (a view into a reused array: copy what you keep). */
  args: Int32Array;
  /** Payload bytes, or null (a copy). */
  bytes: Uint8Array | null;
}

export class Ring {
  private readonly w: Int32Array;
  private readonly b: Uint8Array;
  /** Data words (a multiple of REC_WORDS). */
  private readonly size: number;
  private readonly args = new Int32Array(REC_WORDS - 2);

  constructor(readonly sab: SharedArrayBuffer) {
    this.w = new Int32Array(sab);
    this.b = new Uint8Array(sab);
    this.size = this.w.length - DATA;
  }

  /** A ring of about `bytes` bytes of data. */
  static create(bytes: number): Ring {
    const words = DATA + Math.ceil(bytes / 4 / REC_WORDS) * REC_WORDS;
    return new Ring(new SharedArrayBuffer(words * 4));
  }

  /** Words a record with `len` payload bytes takes. */
  private static words(len: number): number {
    return REC_WORDS + Math.ceil(len / 4 / REC_WORDS) * REC_WORDS;
  }

  /**
   * Append a record; false when it does not fit now (the consumer is behind). `a` holds up to
   * REC_WORDS - 2 arguments; `bytes` is copied.
   */
  push(kind: number, a: ArrayLike<number>, bytes?: Uint8Array): boolean {
    const len = bytes?.length ?? 0;
    const need = Ring.words(len);
    const head = this.w[HEAD];
    const tail = Atomics.load(this.w, TAIL);
    // One record's worth stays free, so that head === tail only when the ring is empty.
    const free = (tail > head ? tail - head : this.size - head + tail) - REC_WORDS;
    let at = head;
    // A record never wraps: when it does not fit before the end, a WRAP marker fills the rest.
    if (at + need > this.size) {
      if (free < this.size - at + need) return false;
      this.w[DATA + at] = WRAP;
      at = 0;
    } else if (free < need) return false;
    const o = DATA + at;
    this.w[o] = kind;
    this.w[o + 1] = len;
    for (let i = 0; i < a.length; i++) this.w[o + 2 + i] = a[i];
    if (bytes && len > 0) this.b.set(bytes, (o + REC_WORDS) * 4);
    Atomics.store(this.w, HEAD, (at + need) % this.size);
    return true;
  }

  /** Take the next record, or null when the ring is empty. */
  shift(): RingRecord | null {
    let tail = this.w[TAIL];
    if (tail === Atomics.load(this.w, HEAD)) return null;
    if (this.w[DATA + tail] === WRAP) tail = 0; // the producer published the record at 0 with it
    const o = DATA + tail;
    const kind = this.w[o];
    const len = this.w[o + 1];
    for (let i = 0; i < this.args.length; i++) this.args[i] = this.w[o + 2 + i];
    const start = (o + REC_WORDS) * 4;
    const bytes = len > 0 ? this.b.slice(start, start + len) : null;
    Atomics.store(this.w, TAIL, (tail + Ring.words(len)) % this.size);
    return { kind, args: this.args, bytes };
  }
}
