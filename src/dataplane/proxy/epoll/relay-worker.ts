/**
 * A relay thread of the epoll proxy engine: it carries the bytes of kept-alive flows the main
 * thread handed over (relay.ts), so that busy flows run on more than one core, as HAProxy's
 * threads do. Only the steady state runs here — recv from one side, send all of it to the
 * other. Anything else (a FIN, a reset, a partial send, a bulk stream, a recall) hands the flow
 * back to the main thread with what happened, and the main thread's EpollFlow, which has all the
 * rules, goes on from there. Bytes and reads are reported every FLUSH_MS and before a hand-back.
 *
 * The thread never returns to its event loop while it runs: it blocks in epoll_wait, and the
 * main thread wakes it through an eventfd in the same set.
 */
/// <reference lib="webworker" />
import { ptr } from "bun:ffi";
import { sockSys } from "../../../sys/libc.ts";
import {
  EAGAIN,
  EINTR,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_EVENT_DATA,
  EPOLL_EVENT_SIZE,
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLRDHUP,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
} from "../../../sys/stream-consts.ts";
import {
  BACK_BUSY,
  BACK_EOF,
  BACK_EVENT,
  BACK_RECALL,
  BACK_RESET,
  BACK_REST,
  CMD_ADOPT,
  CMD_RECALL,
  DOWN,
  EV_ACCT,
  EV_BACK,
  type RelayInit,
  STOP,
  STOPPED,
  UP,
} from "./relay-protocol.ts";
import { Ring } from "./relay-ring.ts";

declare const self: Worker;

const MAX_EVENTS = 256;
const FLUSH_MS = 100;
/** Full reads in one turn before a stream counts as bulk and goes back to the main thread. */
const READS_PER_TURN = 8;
const SEND_FLAGS = MSG_DONTWAIT | MSG_NOSIGNAL;
const HANGUP = EPOLLRDHUP | EPOLLHUP | EPOLLERR;
/** The epoll data of the wake-up eventfd (flow ids are positive). */
const WAKE_TAG = 0;

const RBUF = new Uint8Array(new ArrayBuffer(256 * 1024));
const RBUF_PTR = ptr(RBUF);

class Flow {
  inBytes = 0;
  inReads = 0;
  outBytes = 0;
  outReads = 0;
  dirty = false;
  constructor(
    readonly id: number,
    readonly cfd: number,
    readonly ufd: number,
  ) {}
}

class Relay {
  private readonly cmd: Ring;
  private readonly evt: Ring;
  private readonly control: Int32Array;
  private readonly ep: number;
  private readonly flows = new Map<number, Flow>();
  private readonly dirty: Flow[] = [];
  private readonly events = new Uint32Array(new ArrayBuffer(EPOLL_EVENT_SIZE * MAX_EVENTS));
  private readonly eventsPtr = ptr(this.events);
  private readonly one = new Uint32Array(new ArrayBuffer(EPOLL_EVENT_SIZE));
  private readonly onePtr = ptr(this.one);
  private readonly args = new Int32Array(6);
  /** Hand-backs since the main thread was last woken. */
  private backs = 0;

  constructor(private readonly init: RelayInit) {
    this.cmd = new Ring(init.cmd);
    this.evt = new Ring(init.evt);
    this.control = new Int32Array(init.control);
    this.ep = sockSys.epollCreate();
    this.watch(init.wake, WAKE_TAG, EPOLLIN);
  }

  run(): void {
    let flushAt = performance.now() + FLUSH_MS;
    const stride = EPOLL_EVENT_SIZE / 4;
    while (Atomics.load(this.control, STOP) === 0) {
      const n = sockSys.epollWait(this.ep, this.eventsPtr, MAX_EVENTS, FLUSH_MS);
      for (let i = 0; i < n; i++) {
        const bits = this.events[i * stride];
        const tag = this.events[i * stride + EPOLL_EVENT_DATA];
        if (tag === WAKE_TAG) {
          sockSys.eventClear(this.init.wake);
          this.commands();
          continue;
        }
        const f = this.flows.get(tag >>> 1);
        if (f !== undefined) this.onEvent(f, tag & 1, bits);
      }
      const now = performance.now();
      if (now >= flushAt) {
        this.flush();
        flushAt = now + FLUSH_MS;
      }
      if (this.backs > 0) {
        this.backs = 0;
        sockSys.eventSignal(this.init.mainWake);
      }
    }
    this.flush();
    sockSys.close(this.ep);
    Atomics.store(this.control, STOPPED, 1);
    Atomics.notify(this.control, STOPPED);
  }

  private watch(fd: number, tag: number, events: number): number {
    this.one[0] = events >>> 0;
    this.one[EPOLL_EVENT_DATA] = tag;
    return sockSys.epollCtl(this.ep, EPOLL_CTL_ADD, fd, this.onePtr);
  }

  private commands(): void {
    for (let r = this.cmd.shift(); r !== null; r = this.cmd.shift()) {
      const id = r.args[0];
      if (r.kind === CMD_ADOPT) this.adopt(new Flow(id, r.args[1], r.args[2]));
      else if (r.kind === CMD_RECALL) {
        const f = this.flows.get(id);
        if (f !== undefined) this.back(f, BACK_RECALL, UP, 0);
      }
    }
  }

  private adopt(f: Flow): void {
    this.flows.set(f.id, f);
    // Edge-triggered: bytes already queued are reported once, at once.
    const ev = EPOLLIN | EPOLLRDHUP | EPOLLET;
    if (this.watch(f.cfd, f.id * 2 + UP, ev) < 0 || this.watch(f.ufd, f.id * 2 + DOWN, ev) < 0)
      this.back(f, BACK_RECALL, UP, 0);
  }

  private onEvent(f: Flow, side: number, bits: number): void {
    if (bits & HANGUP) this.back(f, BACK_EVENT, side, bits);
    else if (bits & EPOLLIN) this.pump(f, side);
  }

  /** recv from `side`'s source, send all of it on; anything but that goes back to the main thread. */
  private pump(f: Flow, side: number): void {
    const src = side === UP ? f.cfd : f.ufd;
    const dst = side === UP ? f.ufd : f.cfd;
    for (let i = 0; i < READS_PER_TURN; i++) {
      const n = sockSys.recv(src, RBUF_PTR, RBUF.length);
      if (n > 0) {
        this.count(f, side, n);
        const w = sockSys.send(dst, RBUF_PTR, n, SEND_FLAGS);
        if (w === n) {
          if (n < RBUF.length) return; // drained: the next bytes raise a new edge
          continue;
        }
        if (w < 0 && w !== -EAGAIN) this.back(f, BACK_RESET, side, 0);
        else this.back(f, BACK_REST, side, 0, RBUF.subarray(Math.max(w, 0), n));
        return;
      }
      if (n === -EAGAIN) return;
      if (n === -EINTR) continue;
      this.back(f, n === 0 ? BACK_EOF : BACK_RESET, side, 0);
      return;
    }
    this.back(f, BACK_BUSY, side, 0);
  }

  private count(f: Flow, side: number, n: number): void {
    if (side === UP) {
      f.inBytes += n;
      f.inReads++;
    } else {
      f.outBytes += n;
      f.outReads++;
    }
    if (!f.dirty) {
      f.dirty = true;
      this.dirty.push(f);
    }
    // Counts travel as int32: report before they could overflow.
    if (f.inBytes > 0x40000000 || f.outBytes > 0x40000000) this.report(f);
  }

  /** Stop watching the flow and hand it back with what happened (after its counts). */
  private back(f: Flow, why: number, side: number, bits: number, rest?: Uint8Array): void {
    this.flows.delete(f.id);
    sockSys.epollCtl(this.ep, EPOLL_CTL_DEL, f.cfd, this.onePtr);
    sockSys.epollCtl(this.ep, EPOLL_CTL_DEL, f.ufd, this.onePtr);
    this.report(f);
    const a = this.args;
    a[0] = f.id;
    a[1] = why;
    a[2] = side;
    a[3] = bits | 0;
    this.push(EV_BACK, a.subarray(0, 4), rest);
    this.backs++;
  }

  private report(f: Flow): void {
    if (f.inReads + f.outReads === 0) return;
    const a = this.args;
    a[0] = f.id;
    a[1] = f.inBytes;
    a[2] = f.inReads;
    a[3] = f.outBytes;
    a[4] = f.outReads;
    this.push(EV_ACCT, a.subarray(0, 5));
    f.inBytes = f.inReads = f.outBytes = f.outReads = 0;
  }

  private flush(): void {
    for (const f of this.dirty) {
      f.dirty = false;
      this.report(f);
    }
    this.dirty.length = 0;
  }

  /** Append to the event ring; while it is full, wake the main thread and wait for it to drain. */
  private push(kind: number, a: Int32Array, bytes?: Uint8Array): void {
    while (!this.evt.push(kind, a, bytes)) {
      if (Atomics.load(this.control, STOP) !== 0) return;
      sockSys.eventSignal(this.init.mainWake);
      Atomics.wait(this.control, STOPPED, 0, 1);
    }
  }
}

self.onmessage = (ev: MessageEvent<RelayInit>) => new Relay(ev.data).run();
