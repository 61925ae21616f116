/**
 * One direction of a proxied TCP connection, with backpressure. Bun's `socket.write()` does not
 * buffer: it takes what the kernel accepts and returns that count. What is left of a chunk is
 * held here, the source is paused, and the rest goes out on the destination's `drain`, which
 * resumes the source. So each direction holds at most the chunk being written (plus whatever
 * Bun still dispatches after a pause), never a growing buffer.
 */

/** The part of a Bun socket a pipe writes to. */
export interface Sink {
  write(data: Uint8Array, byteOffset?: number, byteLength?: number): number;
  shutdown(): void;
}

/** The part of a Bun socket a pipe reads from. */
export interface Source {
  pause(): void;
  resume(): void;
}

/** A source that has nothing to pause yet. */
export const NO_SOURCE: Source = { pause() {}, resume() {} };

export class Pipe {
  /** Null while the upstream connection is still being opened. */
  dst: Sink | null = null;
  private head: Uint8Array | null = null;
  private headOff = 0;
  /** Chunks that arrived after the pause, or before `dst` existed; rarely more than one. */
  private rest: Uint8Array[] | null = null;
  private paused = false;
  /** The source sent FIN; forward it once everything queued is written. */
  private finPending = false;
  /** FIN was forwarded to the destination. */
  finSent = false;

  /** `src` may be swapped once (the upstream socket exists only after it connects). */
  constructor(public src: Source) {}

  /** Bytes held for the destination. */
  get queued(): number {
    let n = this.head ? this.head.length - this.headOff : 0;
    if (this.rest) for (const c of this.rest) n += c.length;
    return n;
  }

  /** A chunk from the source (Bun hands a fresh buffer each time, so holding it is safe). */
  push(chunk: Uint8Array): void {
    if (this.head !== null || this.dst === null) {
      this.enqueue(chunk);
      return;
    }
    const n = this.dst.write(chunk);
    if (n < chunk.length) {
      this.head = chunk;
      this.headOff = Math.max(n, 0);
      this.pauseSrc();
    }
  }

  /** The destination can take more (its `drain`, or it just connected). True when empty. */
  flush(): boolean {
    const dst = this.dst;
    if (dst === null) return false;
    while (this.head !== null) {
      const len = this.head.length - this.headOff;
      const n = dst.write(this.head, this.headOff, len);
      if (n < len) {
        this.headOff += Math.max(n, 0);
        return false;
      }
      this.head = this.rest?.shift() ?? null;
      this.headOff = 0;
    }
    if (this.paused) {
      this.paused = false;
      this.src.resume();
    }
    if (this.finPending) this.sendFin();
    return true;
  }

  /** The source half-closed: pass the FIN on after the queued bytes. */
  end(): void {
    this.finPending = true;
    if (this.head === null && this.dst !== null) this.sendFin();
  }

  /** Drop what is queued (the destination is gone). */
  discard(): void {
    this.head = null;
    this.rest = null;
  }

  private enqueue(chunk: Uint8Array): void {
    if (this.head === null) {
      this.head = chunk;
      this.headOff = 0;
    } else {
      if (this.rest) this.rest.push(chunk);
      else this.rest = [chunk];
    }
    this.pauseSrc();
  }

  private pauseSrc(): void {
    if (this.paused) return;
    this.paused = true;
    this.src.pause();
  }

  private sendFin(): void {
    this.finPending = false;
    if (this.finSent) return;
    this.finSent = true;
    this.dst!.shutdown();
  }
}
