/**
 * HTTP on libc sockets and one epoll set (Linux), what ab does by hand: non-blocking connect,
 * send() of the prebuilt request, recv() into one preallocated buffer, the ResponseParser on
 * the bytes. No allocation per request or per read; one clock read per epoll batch.
 *
 * The loop runs on the main thread in slices: epoll_wait blocks for at most WAIT_MS (it wakes
 * at once when a socket is ready, as ab's does), and the event loop gets a turn at least every
 * SLICE_MS, so timers (progress, -t, -s), Ctrl-C and servers in the same process keep running. Semantics are HttpDriver's: the same timings, keep-alive rules,
 * retries of kept-alive connections closed before an answer, and error kinds.
 *
 * The common case runs in C (fastpath.c): epoll_wait, recv, one whole Content-Length answer in
 * one read, and on a kept-alive connection the next request sent at once; the C code writes a
 * record per answer, and hands every other event (with the bytes it read) to this loop.
 */
import { type Pointer, ptr } from "bun:ffi";
import { sockSys } from "../sys/libc.ts";
import {
  EAGAIN,
  EINPROGRESS,
  EINTR,
  EPOLL_CTL_ADD,
  EPOLL_CTL_MOD,
  EPOLL_EVENT_DATA,
  EPOLL_EVENT_WORDS,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  MSG_NOSIGNAL,
  SO_ERROR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
} from "../sys/stream-consts.ts";
import { classifyErrno } from "./errors.ts";
import {
  F_KEEPALIVE,
  F_WANT_SERVER,
  type FastLoop,
  fastLoop,
  K_DONE,
  NO_RECV,
  type PartialAnswer,
  REC,
} from "./fastpath.ts";
import { keepOutOfFtl } from "./jit.ts";
import { MALFORMED, NEED_MORE, ResponseParser } from "./parser.ts";
import { buildRequest } from "./request.ts";
import { CONNECT, type Driver, EXCEPTION, RECEIVE, type Run } from "./run.ts";
import { resolveSockaddr, type SockAddr } from "./sockaddr.ts";

const EV_WORDS = EPOLL_EVENT_WORDS;
const EV_DATA = EPOLL_EVENT_DATA;
const MAX_EVENTS = 256;
const RBUF_SIZE = 65536;
/**
 * Longest block in epoll_wait, and longest stretch of socket work, before the event loop runs.
 * Not shorter: with a 1 ms timeout the kernel's epoll_wait costs measurably more per call
 * (~1.5 µs of system time per request more at 90k requests/s, against 5 or 10 ms).
 */
const WAIT_MS = 10;
const SLICE_MS = 20;
/** How long the event loop gets turns while nothing is ready, before epoll_wait blocks. */
const SPIN_MS = 1;
/**
 * Runs shorter than this do without the C fast path (its compile costs ~5 ms of CPU).
 * UVS_BENCH_FASTPATH=off turns it off, =on uses it whatever the count (tests, diagnosis).
 */
const FAST_MIN_REQUESTS = 2000;

function wantFastPath(requests: number): boolean {
  const e = process.env.UVS_BENCH_FASTPATH;
  if (e === "off") return false;
  return e === "on" || requests >= FAST_MIN_REQUESTS;
}

class Slot {
  fd = -1;
  /** Tags this connection's epoll events: a stale event of an earlier socket is ignored. */
  serial = 0;
  connecting = false;
  served = 0; // responses on this connection
  busy = false;
  tStart = 0;
  tConnect = 0;
  tEndWrite = 0;
  tBeginRead = 0;
  read = 0;
  woff = 0; // request bytes sent
  /** A failure found while launching, reported from the loop (no recursion through next()). */
  pendingKind = "";

  constructor(
    readonly i: number,
    readonly parser: ResponseParser,
  ) {}
}

export class FfiHttpDriver implements Driver {
  private readonly run: Run;
  private readonly slots: Slot[] = [];
  private readonly req: Uint8Array;
  private readonly reqPtr: Pointer;
  private readonly keepAlive: boolean;
  private readonly named: boolean;
  // Over explicit ArrayBuffers: JSC may move a small typed array's storage, and ptr() with it.
  private readonly rbuf = new Uint8Array(new ArrayBuffer(RBUF_SIZE));
  private readonly rbufPtr = ptr(this.rbuf);
  private readonly events = new Uint32Array(new ArrayBuffer(MAX_EVENTS * EV_WORDS * 4));
  private readonly eventsPtr = ptr(this.events);
  private readonly one = new Uint32Array(new ArrayBuffer(EV_WORDS * 4));
  private readonly onePtr = ptr(this.one);
  private addr: SockAddr | null = null;
  private addrPtr: Pointer | null = null;
  private resolveError = "";
  private ep = -1;
  private pending: Slot[] = [];
  private pumping = false;
  /** Block in epoll_wait before giving the event loop a turn (see slice). */
  private blockFirst = false;
  /** When polls started to find nothing (0: they find something). */
  private idleSince = 0;
  private closed = false;
  private handoff = 0;
  private serials = 0;
  /** The clock reading of the last batch of events. */
  private batchNow = 0;
  /** The C fast path (fastpath.ts), or null: this loop does all. */
  private readonly fast: FastLoop | null = null;

  constructor(run: Run) {
    this.run = run;
    const o = run.opts;
    const req = buildRequest(o, run.target);
    this.req = new Uint8Array(new ArrayBuffer(req.length));
    this.req.set(req);
    this.reqPtr = ptr(this.req);
    this.keepAlive = o.keepAlive;
    this.named = !!(o.serverHeader || o.serverFromBody);
    const cfg = {
      head: (o.method ?? "GET").toUpperCase() === "HEAD",
      nameHeader: o.serverHeader ? new TextEncoder().encode(o.serverHeader.toLowerCase()) : null,
      nameFromBody: !!o.serverFromBody,
    };
    const n = Math.min(o.concurrency, o.requests);
    for (let i = 0; i < n; i++) this.slots.push(new Slot(i, new ResponseParser(cfg)));
    // The fast path knows the common answer only: not HEAD, no server names to collect.
    const fast = wantFastPath(o.requests) && !cfg.head && !this.named ? fastLoop(n, MAX_EVENTS) : null;
    if (typeof fast === "object" && fast !== null) {
      this.fast = fast;
      run.fastPath = true;
    }
  }

  async init(): Promise<string | null> {
    const t = this.run.target;
    const a = await resolveSockaddr(t.host, t.port);
    if (typeof a === "string")
      this.resolveError = a === "ENOTFOUND" || a.startsWith("EAI_") ? "dns" : "connect";
    else {
      this.addr = a;
      this.addrPtr = ptr(a.bytes);
    }
    const ep = sockSys.epollCreate();
    if (ep < 0) return `epoll_create1 failed (errno ${-ep})`;
    this.ep = ep;
    return null;
  }

  launch(i: number): void {
    const s = this.slots[i];
    const now = this.handoff > 0 ? this.handoff : performance.now();
    this.begin(s, now);
    this.wake();
    if (s.fd >= 0) {
      s.tConnect = now; // ab: a kept-alive request has no connect time
      this.send(s, now);
    } else this.open(s);
  }

  /** Slot s starts a request at `now`. */
  private begin(s: Slot, now: number): void {
    s.busy = true;
    s.read = 0;
    s.woff = 0;
    s.parser.reset();
    s.tStart = now;
  }

  /** A new non-blocking connection for slot s; it reports in the loop when it is up. */
  private open(s: Slot): void {
    const fd = this.addr === null ? -1 : this.connectTo(this.addr);
    if (fd < 0) {
      s.pendingKind = this.addr === null ? this.resolveError : classifyErrno(-fd, "connect");
      this.pending.push(s);
      return;
    }
    s.fd = fd;
    s.serial = this.serials = (this.serials + 1) >>> 0;
    this.fast?.opened(s.i, fd, s.serial);
    s.served = 0;
    s.connecting = true;
    this.ctl(s, EPOLL_CTL_ADD, EPOLLOUT);
  }

  /** A non-blocking socket connecting to `a`, or -errno. */
  private connectTo(a: SockAddr): number {
    const fd = sockSys.socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fd;
    const r = sockSys.connect(fd, this.addrPtr!, a.bytes.length);
    if (r === 0 || r === -EINPROGRESS) return fd;
    sockSys.close(fd);
    return r;
  }

  private ctl(s: Slot, op: number, events: number): void {
    const one = this.one;
    one[0] = events;
    one[EV_DATA] = s.i;
    one[EV_DATA + 1] = s.serial;
    sockSys.epollCtl(this.ep, op, s.fd, this.onePtr);
  }

  /** Send what is left of the request; a partial send waits for EPOLLOUT. */
  private send(s: Slot, now: number): void {
    const first = s.woff === 0;
    const want = this.req.length - s.woff;
    this.sent(s, sockSys.send(s.fd, (this.reqPtr + s.woff) as Pointer, want, MSG_NOSIGNAL), first, want, now);
  }

  /** What a send() of `want` request bytes that returned `w` means for the slot. */
  private sent(s: Slot, w: number, first: boolean, want: number, now: number): void {
    if (w === -EAGAIN || w === -EINTR) {
      if (first) this.ctl(s, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
      return;
    }
    if (w < 0) {
      // The server closed a kept-alive connection that looked idle: not a request (as ab).
      if (first && s.served > 0) this.retry(s);
      else {
        this.run.writeErrors++;
        this.fail(s, EXCEPTION, "write");
      }
      return;
    }
    this.run.totalSent += w;
    s.woff += w;
    if (w < want) {
      if (first) this.ctl(s, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
      return;
    }
    if (!first) this.ctl(s, EPOLL_CTL_MOD, EPOLLIN);
    // One send() in the common case: it ends at the request's (or connection's) start, to
    // within the syscall's few µs, which ab's ms figures cannot see.
    s.tEndWrite = first ? s.tConnect : now;
    if (s.read === 0) this.fast?.arm(s.i); // the answer may go through the fast path
  }

  /** Start the loop if it is not running (the first launch, or after the loop went idle). */
  private wake(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    setImmediate(this.pump);
  }

  private readonly pump = async (): Promise<void> => {
    while (!this.closed) {
      this.slice();
      if (this.closed) break;
      await new Promise<void>((r) => setImmediate(r));
    }
    this.pumping = false;
  };

  /**
   * Events until nothing is ready or SLICE_MS have passed. Blocking in epoll_wait is what a
   * load generator should do while it waits for an outside server, but it would stall a server
   * in this process (tests, an embedding program). So there are two ways to wait: while the
   * last block was woken by a socket (an outside server), block at once, as ab does; else give
   * the event loop turns for up to SPIN_MS (a server of ours answers in them), then block. A
   * block that times out returns to the second way.
   */
  private slice(): void {
    const until = performance.now() + SLICE_MS;
    while (!this.closed) {
      if (this.pending.length > 0) this.flushPending();
      if (this.closed) return;
      const block =
        this.pending.length === 0 &&
        (this.blockFirst || (this.idleSince > 0 && performance.now() - this.idleSince >= SPIN_MS));
      const timeout = block ? WAIT_MS : 0;
      const n = this.fast ? this.pollFast(timeout) : this.poll(timeout);
      if (n < 0) return; // EINTR, or the set is gone
      if (n === 0) {
        if (block) this.blockFirst = false;
        else if (this.idleSince === 0) this.idleSince = performance.now();
        return;
      }
      if (block) this.blockFirst = true; // woken by a socket while blocked: an outside server
      this.idleSince = 0;
      if (this.batchNow >= until) return;
    }
  }

  /** epoll_wait and each event to its slot; the number of events. */
  private poll(timeout: number): number {
    const n = sockSys.epollWait(this.ep, this.eventsPtr, MAX_EVENTS, timeout);
    if (n <= 0) return n;
    const now = performance.now();
    this.batchNow = now;
    const ev = this.events;
    for (let k = 0; k < n && !this.closed; k++) {
      const o = k * EV_WORDS;
      const s = this.slots[ev[o + EV_DATA]];
      if (s !== undefined && s.fd >= 0 && s.serial === ev[o + EV_DATA + 1]) this.event(s, ev[o], now);
    }
    return n;
  }

  /** The same through the C fast path: its answers, then what it handed over; the number of events. */
  private pollFast(timeout: number): number {
    const run = this.run;
    const f = this.fast!;
    const flags = (this.keepAlive ? F_KEEPALIVE : 0) | (run.serverSoftware === "" ? F_WANT_SERVER : 0);
    const recs = f.pump(
      this.ep,
      this.eventsPtr,
      timeout,
      this.reqPtr,
      this.req.length,
      run.budget(),
      run.stopAtMs,
      flags,
    );
    if (recs < 0) return recs;
    const n = f.events;
    if (n === 0) return 0;
    const now = f.now;
    this.batchNow = now;
    run.totalRead += f.bytesRead;
    run.fastPathSplit += f.splitAnswers;
    const o = f.out;
    for (let k = 0; k < recs && !this.closed; k++) {
      const r = k * REC;
      const s = this.slots[o[r + 1]];
      if (s.fd < 0) continue;
      if (o[r] === K_DONE) {
        run.fastPathAnswers++;
        this.fastDone(s, o[r + 2], o[r + 3], o[r + 4] === 1, o[r + 5], o[r + 6] === 1, o[r + 7], now);
        continue;
      }
      const part = f.takePartial(s.i);
      if (part !== null) this.takeUp(s, part);
      if (o[r + 3] === NO_RECV) this.event(s, o[r + 2], now);
      else this.received(s, o[r + 3], f.buf, o[r + 4], now);
    }
    return n;
  }

  /** The C loop handed the slot over in the middle of an answer's body: the parser goes on from there. */
  private takeUp(s: Slot, a: PartialAnswer): void {
    s.parser.resumeBody(a.status, a.keepAlive, a.length, a.left);
    s.read = a.read;
    s.tBeginRead = a.tFirst;
  }

  /**
   * An answer the C code read whole (its first byte at tFirst): ab's checks and the timings, as
   * complete() records them. `next`: it sent the next request on the connection at once (send()
   * returned `w`).
   */
  private fastDone(
    s: Slot,
    status: number,
    body: number,
    ka: boolean,
    tFirst: number,
    next: boolean,
    w: number,
    now: number,
  ): void {
    const run = this.run;
    const keptAlive = this.keepAlive && ka;
    run.response(status, body, keptAlive);
    run.ok(s.tStart, s.tConnect, s.tEndWrite, tFirst, now);
    s.served++;
    if (next) {
      // What run.next() and launch() do for a kept-alive slot, with the C code's send.
      run.startedOne();
      this.begin(s, now);
      s.tConnect = now;
      this.sent(s, w, true, this.req.length, now);
      return;
    }
    s.busy = false;
    if (!keptAlive) this.closeFd(s);
    this.handoff = now;
    run.next(s.i);
    this.handoff = 0;
  }

  private flushPending(): void {
    const p = this.pending;
    this.pending = [];
    for (const s of p) if (s.busy && !this.closed) this.fail(s, CONNECT, s.pendingKind);
  }

  private event(s: Slot, bits: number, now: number): void {
    if (s.connecting) {
      this.connected(s, bits, now);
      return;
    }
    const serial = s.serial;
    if ((bits & EPOLLOUT) !== 0 && s.busy && s.woff < this.req.length) {
      this.send(s, now);
      if (s.fd < 0 || s.serial !== serial) return;
    }
    if ((bits & (EPOLLIN | EPOLLHUP | EPOLLERR)) !== 0) this.readable(s, now);
  }

  private connected(s: Slot, bits: number, now: number): void {
    const err = (bits & (EPOLLERR | EPOLLHUP)) !== 0 ? sockSys.getInt(s.fd, SOL_SOCKET, SO_ERROR) : 0;
    if (err !== 0) {
      this.fail(s, CONNECT, err > 0 ? classifyErrno(err, "connect") : "connect");
      return;
    }
    s.connecting = false;
    s.tConnect = now;
    this.ctl(s, EPOLL_CTL_MOD, EPOLLIN);
    this.send(s, now);
  }

  private readable(s: Slot, now: number): void {
    const r = sockSys.recv(s.fd, this.rbufPtr, RBUF_SIZE);
    if (r > 0) this.run.totalRead += r;
    this.received(s, r, this.rbuf, 0, now);
  }

  /** What a recv() that returned r means; its bytes are in buf from off (already counted). */
  private received(s: Slot, r: number, buf: Uint8Array, off: number, now: number): void {
    if (r > 0) {
      if (!s.busy) return; // bytes nobody asked for on an idle kept-alive socket
      if (s.read === 0) s.tBeginRead = now;
      s.read += r;
      const p = s.parser.feed(buf, off, off + r);
      if (p === NEED_MORE) return;
      if (p === MALFORMED) this.fail(s, EXCEPTION, "malformed");
      else this.complete(s, true, now);
      return;
    }
    if (r === -EAGAIN || r === -EINTR) return;
    this.peerClosed(s, r === 0 ? 0 : -r, now);
  }

  /** The server closed (err 0) or reset the connection. */
  private peerClosed(s: Slot, err: number, now: number): void {
    this.closeFd(s);
    if (!s.busy) return; // the server closed an idle kept-alive connection
    if (err === 0 && s.parser.closeDelimited) this.complete(s, false, now);
    else if (s.read === 0 && s.served > 0) this.retry(s);
    else {
      const kind = err ? classifyErrno(err, "receive") : s.read ? "truncated" : "closed";
      this.fail(s, RECEIVE, kind);
    }
  }

  /** ab: a kept-alive connection closed before any byte of the answer is not a request; again. */
  private retry(s: Slot): void {
    this.closeFd(s);
    this.run.started--;
    s.busy = false;
    this.run.next(s.i);
  }

  private complete(s: Slot, open: boolean, tDone: number): void {
    const run = this.run;
    const p = s.parser;
    if (s.woff < this.req.length) s.tEndWrite = tDone; // answered before the request was all sent
    const reuse = open && this.keepAlive && p.keepAlive;
    run.answered(p, this.keepAlive, this.named, s, tDone);
    s.busy = false;
    if (s.fd >= 0) {
      s.served++;
      if (!reuse) this.closeFd(s);
    }
    this.handoff = tDone;
    run.next(s.i);
    this.handoff = 0;
  }

  private fail(s: Slot, category: number, kind: string): void {
    s.busy = false;
    this.closeFd(s);
    this.run.fail(category, kind);
    this.run.next(s.i);
  }

  /**
   * Close the slot's socket (which removes it from the epoll set) as ab does: a plain close, so
   * the server and a director in between see a FIN, and their connection entries go through
   * FIN_WAIT/TIME_WAIT as under ab (a reset would end them in CLOSE after 10 s, and change
   * InActConn and with it lc/wlc). A reset was ~8 % cheaper per request, but not what ab sends.
   */
  private closeFd(s: Slot): void {
    if (s.fd < 0) return;
    sockSys.close(s.fd);
    s.fd = -1;
    this.fast?.closed(s.i);
    s.connecting = false;
  }

  expire(cutoff: number): void {
    for (const s of this.slots) if (s.busy && s.tStart < cutoff) this.fail(s, EXCEPTION, "timeout");
  }

  closeAll(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.slots) {
      s.busy = false;
      this.closeFd(s);
    }
    this.pending = [];
    if (this.ep >= 0) sockSys.close(this.ep);
    this.ep = -1;
  }
}

keepOutOfFtl(FfiHttpDriver);
