/**
 * The main thread's side of the relay threads (relay-worker.ts): busy kept-alive flows are handed
 * to them so that their bytes move on more than one core, as HAProxy's threads do (one thread
 * proxying with the main thread's work besides it got one CPU share of the scheduler against
 * HAProxy's two: 0.86-0.91 of its keep-alive requests/s in one session; HAProxy with nbthread 1
 * did as well as uvs). The director stays on the main thread: the relays report bytes and reads
 * every 100 ms and hand a flow back for anything but the steady state (relay-protocol.ts).
 * The main thread keeps owning the descriptors: only it closes them, so a number is never reused
 * under a relay.
 */
import { sockSys } from "../../../sys/libc.ts";
import { EPOLLIN } from "../../../sys/stream-consts.ts";
import { workerEntryUrl } from "../../../sys/worker-url.ts";
import type { EpollLoop, FdHandler } from "./loop.ts";
import {
  BACK_RECALL,
  CMD_ADOPT,
  CMD_RECALL,
  END_CLOSED,
  END_RESET,
  EV_ACCT,
  EV_BACK,
  EV_END,
  type RelayInit,
  STOP,
  STOPPED,
  UP,
} from "./relay-protocol.ts";
import { Ring } from "./relay-ring.ts";

/** The relay worker's path under src/ (a compiled binary embeds it as an entry point). */
export const RELAY_FROM_SRC = "dataplane/proxy/epoll/relay-worker.ts";
const RING_BYTES = 4 << 20;
/** How often the main thread takes the relays' reports when nothing woke it. */
const DRAIN_MS = 100;
/** Ids fit epoll's tag with a side bit (relay-worker.ts). */
const MAX_ID = 1 << 30;

/** A flow the relays can carry. */
export interface Movable {
  /** Bytes and reads a relay moved for the flow. */
  accounted(inBytes: number, inReads: number, outBytes: number, outReads: number): void;
  /** The flow is the main thread's again: why, which direction, ENDS_* bits, a send's rest. */
  returned(why: number, side: number, ends: number, rest: Uint8Array | null): void;
  /** A FIN, the close or a reset the relay handled (END_*); after END_CLOSED / END_RESET the sockets are closed. */
  ended(what: number): void;
}

interface RelayThread {
  worker: Worker;
  cmd: Ring;
  evt: Ring;
  control: Int32Array;
  wake: number;
}

/**
 * `threads` relays, or null with the reason when they cannot start (then flows stay on the
 * main thread).
 */
export function startRelays(
  loop: EpollLoop,
  threads: number,
  onError: (message: string) => void,
): RelayPool | string {
  try {
    return new RelayPool(loop, threads, onError);
  } catch (e) {
    return (e as Error).message;
  }
}

export class RelayPool implements FdHandler {
  /** Started on first use: a daemon whose flows never stay long pays no thread. */
  private readonly relays: (RelayThread | undefined)[];
  private readonly moved = new Map<number, Movable>();
  private readonly wake: number;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly args = new Int32Array(3);
  private readonly args1 = this.args.subarray(0, 1);
  private nextId = 0;
  private closed = false;
  /** A relay failed to start: no more hand-overs. */
  private cannotStart = false;

  /** `onError`: a relay thread died (its flows come back to the main thread; a new one starts on demand). */
  constructor(
    private readonly loop: EpollLoop,
    threads: number,
    private readonly onError: (message: string) => void,
  ) {
    const wake = sockSys.eventfd();
    if (wake < 0) throw new Error(`eventfd: errno ${-wake}`);
    this.wake = wake;
    this.relays = new Array(threads).fill(undefined);
    // Level-triggered: a signal while we drain is seen at the next wait.
    loop.add(wake, EPOLLIN, this, false);
    this.timer = setInterval(() => this.drain(), DRAIN_MS);
    this.timer.unref?.();
  }

  /** Relay `i`, started now; undefined (said once) when it cannot start: flows stay here. */
  private start(i: number): RelayThread | undefined {
    try {
      const r = this.spawn(i);
      this.relays[i] = r;
      return r;
    } catch (e) {
      this.onError(`a relay thread of the proxy could not start (${(e as Error).message}): one thread`);
      this.cannotStart = true; // no further attempts: the main thread carries everything
      return undefined;
    }
  }

  private spawn(i: number): RelayThread {
    const cmd = Ring.create(RING_BYTES);
    const evt = Ring.create(RING_BYTES);
    const control = new Int32Array(new SharedArrayBuffer(8));
    const wake = sockSys.eventfd();
    if (wake < 0) throw new Error(`eventfd: errno ${-wake}`);
    let worker: Worker;
    try {
      worker = new Worker(workerEntryUrl(RELAY_FROM_SRC, import.meta.url));
    } catch (e) {
      sockSys.close(wake);
      throw e;
    }
    const init: RelayInit = {
      cmd: cmd.sab,
      evt: evt.sab,
      control: control.buffer as SharedArrayBuffer,
      wake,
      mainWake: this.wake,
    };
    worker.onerror = (ev) => this.died(i, ev.message);
    worker.postMessage(init);
    return { worker, cmd, evt, control, wake };
  }

  /**
   * Relay `i` failed (an exception in it): take what it reported, then its flows back to the main
   * thread (their sockets are still open: a relay closes a flow's sockets only right before it
   * reports the end), and forget it; the next hand-over to that slot starts a new one.
   */
  private died(i: number, message: string): void {
    const r = this.relays[i];
    if (r === undefined || this.closed) return;
    this.onError(`a relay thread of the proxy failed (${message}): its connections go on on the main thread`);
    Atomics.store(r.control, STOP, 1);
    this.drain();
    this.relays[i] = undefined;
    r.worker.terminate();
    sockSys.close(r.wake);
    for (const [id, flow] of this.moved) {
      if (id % this.relays.length !== i) continue;
      this.moved.delete(id);
      flow.returned(BACK_RECALL, UP, 0, null);
    }
  }

  /** Flows on the relays now. */
  get size(): number {
    return this.moved.size;
  }

  /**
   * Hand the flow's sockets (already out of the main loop's set) to a relay: its id, or 0 when no
   * relay can take it now (the caller keeps the flow).
   */
  handoff(flow: Movable, cfd: number, ufd: number): number {
    if (this.closed || this.cannotStart) return 0;
    this.nextId = (this.nextId % (MAX_ID - 1)) + 1;
    const id = this.nextId;
    const i = id % this.relays.length;
    // A new relay reads its ring when it starts: the flow waits in it meanwhile.
    const r = this.relays[i] ?? this.start(i);
    if (r === undefined) return 0;
    const a = this.args;
    a[0] = id;
    a[1] = cfd;
    a[2] = ufd;
    if (!r.cmd.push(CMD_ADOPT, a)) return 0;
    this.moved.set(id, flow);
    sockSys.eventSignal(r.wake);
    return id;
  }

  /**
   * Ask for flow `id` back (it comes back through returned()). Not sent when the command ring is
   * full (131,072 commands behind): the flow then comes back at its next hand-back or end.
   */
  recall(id: number): void {
    const r = this.relays[id % this.relays.length];
    this.args[0] = id;
    if (r?.cmd.push(CMD_RECALL, this.args1)) sockSys.eventSignal(r.wake);
  }

  onEvent(): void {
    sockSys.eventClear(this.wake);
    this.drain();
  }

  /** Apply what the relays reported, in their order. */
  drain(): void {
    for (const r of this.relays) {
      if (r === undefined) continue;
      for (let rec = r.evt.shift(); rec !== null; rec = r.evt.shift()) {
        const a = rec.args;
        const flow = this.moved.get(a[0]);
        if (flow === undefined) continue;
        if (rec.kind === EV_ACCT) flow.accounted(a[1], a[2], a[3], a[4]);
        else if (rec.kind === EV_END) {
          if (a[1] === END_CLOSED || a[1] === END_RESET) this.moved.delete(a[0]);
          flow.ended(a[1]);
        } else if (rec.kind === EV_BACK) {
          this.moved.delete(a[0]);
          flow.returned(a[1], a[2], a[3], rec.bytes);
        }
      }
    }
  }

  /**
   * Stop the relays and wait for them (up to 500 ms): afterwards no thread but the main one
   * touches a socket, so the flows still on the relays can be closed by their owner.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const started = this.relays.filter((r) => r !== undefined);
    for (const r of started) {
      Atomics.store(r.control, STOP, 1);
      sockSys.eventSignal(r.wake);
    }
    const until = performance.now() + 500;
    for (const r of started) {
      while (Atomics.load(r.control, STOPPED) === 0 && performance.now() < until)
        Atomics.wait(r.control, STOPPED, 0, 10);
    }
    this.drain();
    for (const r of started) {
      r.worker.terminate();
      sockSys.close(r.wake);
    }
    this.loop.remove(this.wake);
    sockSys.close(this.wake);
  }
}
