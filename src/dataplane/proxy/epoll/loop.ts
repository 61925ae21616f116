/**
 * One epoll set run from the main thread's event loop. Sockets are registered edge-triggered
 * with a handler; `runSlice` handles ready events for up to SLICE_MS, waiting in epoll_wait
 * itself (at most 1 ms at a time) when nothing is ready, then gives the event loop a turn
 * (timers, the control socket) and continues. A wait of 1 ms that finds nothing also ends the
 * slice; after IDLE_WAITS of them in a row (no traffic for ~20 ms) a waker Worker sleeps in
 * poll(2) on the epoll descriptor and posts a message when it turns readable, so an idle engine
 * costs no CPU. Going through the waker for every gap between requests would cost a thread
 * hand-off each (measured: more CPU per request than Bun's own sockets). The price: while
 * traffic flows, other work of the main thread may wait up to SLICE_MS + 1 ms.
 */
import { type Pointer, ptr } from "bun:ffi";
import { sockSys } from "../../../sys/libc.ts";
import {
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLL_EVENT_DATA,
  EPOLL_EVENT_SIZE,
  EPOLLET,
} from "../../../sys/stream-consts.ts";
import { workerEntryUrl } from "../../../sys/worker-url.ts";
import { ARMED, STOP, type WakerInit } from "./waker-control.ts";

const EV_SIZE = EPOLL_EVENT_SIZE;
const EV_DATA = EPOLL_EVENT_DATA;
const MAX_EVENTS = 256;
/** Longest stretch of socket work before the event loop gets a turn. */
const SLICE_MS = 4;
/** Waits of 1 ms in epoll_wait after the last event before handing over to the waker. */
const IDLE_WAITS = 20;
/** Without a waker (it failed to start): how often an idle loop looks for events. */
const NO_WAKER_POLL_MS = 10;

/** The waker module's path under src/ (a compiled binary must embed it as an entry point). */
export const WAKER_FROM_SRC = "dataplane/proxy/epoll/waker.ts";

/** The waker's module URL, under bun or in a compiled binary. */
export function wakerUrl(here = import.meta.url): string {
  return workerEntryUrl(WAKER_FROM_SRC, here);
}

export interface FdHandler {
  onEvent(fd: number, events: number): void;
}

/** Work that stopped early for fairness (a busy bulk transfer) and continues after this batch. */
export interface Deferred {
  resume(): void;
}

export class EpollLoop {
  readonly epfd: number;
  private readonly handlers: (FdHandler | undefined)[] = [];
  private readonly events = new Uint32Array(new ArrayBuffer(EV_SIZE * MAX_EVENTS));
  private readonly eventsPtr: Pointer;
  /** Over an explicit ArrayBuffer: a small typed array's storage may move, and ptr() with it. */
  private readonly one = new Uint32Array(new ArrayBuffer(EV_SIZE));
  private readonly onePtr: Pointer;
  private deferred: Deferred[] = [];
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private readonly waker: Worker;
  /** The waker failed: an idle loop polls every NO_WAKER_POLL_MS instead. */
  private noWaker = false;
  private scheduled = false;
  private closed = false;
  /** Empty 1 ms waits since the last event. */
  private idle = 0;

  /** `onWakerError`: the waker Worker failed to start or died (the loop then polls). */
  constructor(onWakerError: (message: string) => void, waker = wakerUrl()) {
    this.eventsPtr = ptr(this.events);
    this.onePtr = ptr(this.one);
    const epfd = sockSys.epollCreate();
    if (epfd < 0) throw new Error(`epoll_create1: errno ${-epfd}`);
    this.epfd = epfd;
    this.waker = new Worker(waker);
    this.waker.onmessage = (ev: MessageEvent<number>) => {
      if (ev.data === 1) this.schedule();
    };
    this.waker.onerror = (ev) => {
      if (this.closed || this.noWaker) return;
      this.noWaker = true;
      onWakerError(
        `the epoll engine's waker failed (${ev.message}): polling every ${NO_WAKER_POLL_MS} ms while idle`,
      );
      this.schedule();
    };
    const init: WakerInit = { epfd, control: this.control.buffer as SharedArrayBuffer };
    this.waker.postMessage(init);
    this.arm();
  }

  /** Watch `fd` for `events` (edge-triggered unless `edge` is false); the handler gets each. */
  add(fd: number, events: number, h: FdHandler, edge = true): number {
    this.one[0] = (edge ? events | EPOLLET : events) >>> 0;
    this.one[EV_DATA] = fd;
    const r = sockSys.epollCtl(this.epfd, EPOLL_CTL_ADD, fd, this.onePtr);
    if (r === 0) this.handlers[fd] = h;
    return r;
  }

  /** Change what `fd` is watched for (edge-triggered); a ready socket reports at once. */
  modify(fd: number, events: number): number {
    this.one[0] = (events | EPOLLET) >>> 0;
    this.one[EV_DATA] = fd;
    return sockSys.epollCtl(this.epfd, EPOLL_CTL_MOD, fd, this.onePtr);
  }

  /** Stop watching `fd` (call before closing it: its number may be reused at once). */
  remove(fd: number): void {
    if (this.handlers[fd] === undefined) return;
    this.handlers[fd] = undefined;
    sockSys.epollCtl(this.epfd, EPOLL_CTL_DEL, fd, this.onePtr);
  }

  /** Forget `fd` without a syscall (it is about to be closed: close removes it from the set). */
  forget(fd: number): void {
    this.handlers[fd] = undefined;
  }

  defer(d: Deferred): void {
    this.deferred.push(d);
    this.schedule();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, STOP, 1);
    Atomics.notify(this.control, ARMED);
    this.waker.terminate();
    sockSys.close(this.epfd);
  }

  private readonly schedule = (): void => {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(this.runSlice);
  };

  private arm(): void {
    Atomics.store(this.control, ARMED, 1);
    Atomics.notify(this.control, ARMED);
  }

  private readonly runSlice = (): void => {
    this.scheduled = false;
    if (this.closed) return;
    const deadline = performance.now() + SLICE_MS;
    for (;;) {
      // Up to 1 ms of waiting when nothing is ready (at once when something is): no empty
      // polls, and no turn of the event loop for each gap between requests (measured: 1.5
      // epoll calls per proxied keep-alive request when it polled with timeout 0, HAProxy 0.34).
      const n = sockSys.epollWait(this.epfd, this.eventsPtr, MAX_EVENTS, this.deferred.length > 0 ? 0 : 1);
      this.dispatch(n);
      if (n <= 0 && !this.runDeferred()) break;
      this.idle = 0;
      if (performance.now() >= deadline) {
        this.schedule();
        return;
      }
    }
    // A wait of 1 ms found nothing.
    if (++this.idle >= IDLE_WAITS) {
      if (this.noWaker) setTimeout(this.schedule, NO_WAKER_POLL_MS);
      else this.arm();
      return;
    }
    this.schedule();
  };

  private dispatch(n: number): void {
    const ev = this.events;
    const stride = EV_SIZE / 4;
    for (let i = 0; i < n; i++) {
      // n < 0 (EINTR) runs no iteration
      const fd = ev[i * stride + EV_DATA];
      const h = this.handlers[fd];
      if (h !== undefined) h.onEvent(fd, ev[i * stride]);
    }
  }

  /** Run what was deferred; true when there was any. */
  private runDeferred(): boolean {
    if (this.deferred.length === 0) return false;
    const d = this.deferred;
    this.deferred = [];
    for (const x of d) x.resume();
    return true;
  }
}
