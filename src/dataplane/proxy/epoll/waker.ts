/**
 * The epoll engine's waker: a Worker that sleeps in poll(2) on the engine's epoll descriptor while
 * the main thread is idle, and posts one message when it becomes readable (some socket has an
 * event). The main thread then drains the set with epoll_wait(timeout 0) and re-arms the waker.
 * Shared Int32Array: [ARMED] = 1 while the main thread waits for a wake-up, [STOP] = 1 to end.
 */
/// <reference lib="webworker" />
import { Poller } from "../../../sys/libc.ts";
import { ARMED, STOP, type WakerInit } from "./waker-control.ts";

declare const self: Worker;

/** Long enough to cost nothing while idle, short enough to notice STOP. */
const POLL_MS = 200;

function run(init: WakerInit): void {
  const ctl = new Int32Array(init.control);
  const poller = new Poller([init.epfd]);
  while (Atomics.load(ctl, STOP) === 0) {
    if (Atomics.load(ctl, ARMED) === 0) {
      Atomics.wait(ctl, ARMED, 0, POLL_MS);
      continue;
    }
    if (poller.wait(POLL_MS) <= 0) continue;
    Atomics.store(ctl, ARMED, 0);
    self.postMessage(1);
  }
  self.postMessage(0);
}

self.onmessage = (ev: MessageEvent<WakerInit>) => run(ev.data);
