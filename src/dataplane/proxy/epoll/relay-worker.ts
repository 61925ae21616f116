/**
 * A relay thread of the epoll proxy engine: it carries the bytes of kept-alive flows the main
 * thread handed over (relay.ts), so that busy flows run on more than one core, as HAProxy's
 * threads do. What runs here: recv from one side and send all of it to the other; a FIN
 * forwarded with shutdown (the last bytes before a signalled FIN with MSG_MORE, so the FIN rides
 * in their segment); both FINs read: close; a recv or send error: both sides reset. Each of
 * those is reported to the main thread for the director (EV_END). Anything else (a partial send,
 * a bulk stream, a recall) hands the flow back with what happened, and the main thread's
 * EpollFlow, which has all the rules, goes on. Bytes and reads are reported every FLUSH_MS and
 * before an end or a hand-back. The relay closes the sockets of a flow that ended here; the main
 * thread never touches a moved flow's sockets.
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
  MSG_MORE,
  MSG_NOSIGNAL,
  SHUT_WR,
} from "../../../sys/stream-consts.ts";
import {
  BACK_BUSY,
  BACK_RECALL,
  BACK_REST,
  CMD_ADOPT,
  CMD_RECALL,
  DOWN,
  END_CLIENT_FIN,
  END_CLOSED,
  END_RESET,
  END_SERVER_FIN,
  ENDS_C_EOF,
  ENDS_FIN_TO_C,
  ENDS_FIN_TO_U,
  ENDS_U_EOF,
  EV_ACCT,
  EV_BACK,
  EV_END,
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
  /** ENDS_* bits: which FINs were read and forwarded. */
  ends = 0;
  /** Bit 1 << side: that source's FIN was signalled (EPOLLRDHUP without an error): a short read ends at it. */
  finSeen = 0;
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
  // Views of `args` with a record's argument count, made once (a subarray per record would be an
  // allocation per report on the hot path).
  private readonly args2 = this.args.subarray(0, 2);
  private readonly args4 = this.args.subarray(0, 4);
  private readonly args5 = this.args.subarray(0, 5);
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
        if (f !== undefined) this.back(f, BACK_RECALL, UP);
      } else throw new Error(`relay: unknown command ${r.kind}`); // the main thread takes its flows back
    }
  }

  private adopt(f: Flow): void {
    this.flows.set(f.id, f);
    // Edge-triggered: bytes already queued are reported once, at once.
    const ev = EPOLLIN | EPOLLRDHUP | EPOLLET;
    if (this.watch(f.cfd, f.id * 2 + UP, ev) < 0 || this.watch(f.ufd, f.id * 2 + DOWN, ev) < 0)
      this.back(f, BACK_RECALL, UP);
  }

  private onEvent(f: Flow, side: number, bits: number): void {
    if ((bits & (EPOLLRDHUP | EPOLLERR)) === EPOLLRDHUP) f.finSeen |= 1 << side;
    if (bits & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) this.pump(f, side);
  }

  /** recv from `side`'s source and send all of it on, to its FIN; a partial send or a bulk stream goes back. */
  private pump(f: Flow, side: number): void {
    if (f.ends & (side === UP ? ENDS_C_EOF : ENDS_U_EOF)) return;
    const src = side === UP ? f.cfd : f.ufd;
    const dst = side === UP ? f.ufd : f.cfd;
    for (let i = 0; i < READS_PER_TURN; i++) {
      const n = sockSys.recv(src, RBUF_PTR, RBUF.length);
      if (n > 0) {
        this.count(f, side, n);
        // A short read after the FIN was signalled reached it: the last bytes, and the FIN next.
        const last = n < RBUF.length && (f.finSeen & (1 << side)) !== 0;
        const w = sockSys.send(dst, RBUF_PTR, n, last ? SEND_FLAGS | MSG_MORE : SEND_FLAGS);
        if (w === n) {
          if (last) this.eof(f, side);
          if (n < RBUF.length) return; // drained: the next bytes raise a new edge
          continue;
        }
        if (w < 0 && w !== -EAGAIN) this.reset(f);
        else this.back(f, BACK_REST, side, RBUF.subarray(Math.max(w, 0), n));
        return;
      }
      if (n === -EAGAIN) return;
      if (n === -EINTR) continue;
      if (n === 0) this.eof(f, side);
      else this.reset(f);
      return;
    }
    this.back(f, BACK_BUSY, side);
  }

  /** `side`'s source sent its FIN: forward it; with both FINs read the flow closes (TIME_WAIT). */
  private eof(f: Flow, side: number): void {
    const up = side === UP;
    f.ends |= up ? ENDS_C_EOF | ENDS_FIN_TO_U : ENDS_U_EOF | ENDS_FIN_TO_C;
    this.end(f, up ? END_CLIENT_FIN : END_SERVER_FIN);
    if ((f.ends & (ENDS_C_EOF | ENDS_U_EOF)) === (ENDS_C_EOF | ENDS_U_EOF)) {
      // close() sends what shutdown() would: the receive queues are empty, so a FIN, not a reset.
      this.forget(f);
      sockSys.close(f.cfd);
      sockSys.close(f.ufd);
      this.end(f, END_CLOSED);
      return;
    }
    sockSys.shutdown(up ? f.ufd : f.cfd, SHUT_WR);
  }

  /** A recv or send failed: both peers get a reset (SO_LINGER {1, 0}), the entry goes to CLOSE. */
  private reset(f: Flow): void {
    this.forget(f);
    sockSys.resetClose(f.cfd);
    sockSys.resetClose(f.ufd);
    this.end(f, END_RESET);
  }

  /** Stop watching the flow's sockets and forget it; its counts are reported first. */
  private forget(f: Flow): void {
    this.flows.delete(f.id);
    sockSys.epollCtl(this.ep, EPOLL_CTL_DEL, f.cfd, this.onePtr);
    sockSys.epollCtl(this.ep, EPOLL_CTL_DEL, f.ufd, this.onePtr);
    this.report(f);
  }

  private end(f: Flow, what: number): void {
    this.report(f);
    const a = this.args;
    a[0] = f.id;
    a[1] = what;
    this.push(EV_END, this.args2);
    this.backs++;
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
  private back(f: Flow, why: number, side: number, rest?: Uint8Array): void {
    this.forget(f);
    const a = this.args;
    a[0] = f.id;
    a[1] = why;
    a[2] = side;
    a[3] = f.ends;
    this.push(EV_BACK, this.args4, rest);
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
    this.push(EV_ACCT, this.args5);
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
