/**
 * The packet worker: "the kernel" of the packet plane. It owns the AF_PACKET sockets and the
 * traffic-carrying Director, and loops: poll (≤ 10 ms), receive batches, process, send batches,
 * advance the clock. Every few milliseconds it yields to its event loop so the main thread's
 * requests (config ops, snapshots) are answered while traffic flows. A SharedArrayBuffer flag
 * stops it; counters live in another one.
 */
/// <reference lib="webworker" />

import { SyncDaemons } from "../../../sync/daemon.ts";
import { followDaemonOps } from "../../../sync/worker-sync.ts";
import {
  bypassQdisc,
  PACKET_OTHERHOST,
  PACKET_OUTGOING,
  PacketSocket,
  Poller,
  RxRing,
} from "../../../sys/libc.ts";
import { formatMac } from "../ethernet.ts";
import { formatIpv4 } from "../ipv4.ts";
import { C } from "./counters.ts";
import { UnicastFilter } from "./mac-filter.ts";
import type { NeighbourEntry, WorkerInit, WorkerMessage, WorkerRequest } from "./messages.ts";
import { STOP } from "./messages.ts";
import { PacketEngine, type TxQueue } from "./process.ts";

declare const self: Worker;

const POLL_MS = 10;
/** Longest stretch of frame processing before the event loop gets a turn. */
const SLICE_MS = 4;
const TICK_MS = 10;
/** Frames taken from a ring per pass (as a recvmmsg batch): sends are flushed between passes. */
const RING_BATCH = 64;
/**
 * Receive path: "ring" (PACKET_RX_RING, frames read in place; the default) or "mmsg" (recvmmsg
 * into slots). UVS_PACKET_RX=mmsg selects the latter, for comparison (docs/packet-plane.md).
 */
const RX_MODE = process.env.UVS_PACKET_RX === "mmsg" ? "mmsg" : "ring";
/** UVS_PACKET_QDISC_BYPASS=1: sends skip the device qdisc (veth's is noqueue: measured no gain). */
const QDISC_BYPASS = process.env.UVS_PACKET_QDISC_BYPASS === "1";

/**
 * Batches frames per interface for sendmmsg (when full or at flush). Frames built here go into
 * the socket's tx slots; a received frame sent on (`forward`) is sent from its rx slot without a
 * copy: the loop flushes before the next recvmmsg can overwrite it.
 */
class SocketTx implements TxQueue {
  private readonly count: number[];
  private readonly lens: Uint32Array[];
  private readonly addrs: Float64Array[];
  /** The rx slot being processed and its address. */
  private cur: Uint8Array | null = null;
  private curAddr = 0;

  constructor(
    private readonly socks: PacketSocket[],
    private readonly cnt: Float64Array,
  ) {
    this.count = socks.map(() => 0);
    this.lens = socks.map((s) => new Uint32Array(s.tx.count));
    this.addrs = socks.map((s) => new Float64Array(s.tx.count));
  }

  /** The frame handed to the engine next lives at `addr`. */
  receiving(buf: Uint8Array, addr: number): void {
    this.cur = buf;
    this.curAddr = addr;
  }

  slot(ifIdx: number): Uint8Array {
    if (this.count[ifIdx] === this.socks[ifIdx].tx.count) this.flushOne(ifIdx);
    return this.socks[ifIdx].tx.slots[this.count[ifIdx]];
  }

  commit(ifIdx: number, len: number): void {
    if (len <= 0) return;
    const tx = this.socks[ifIdx].tx;
    const k = this.count[ifIdx]++;
    this.lens[ifIdx][k] = len;
    this.addrs[ifIdx][k] = tx.base + k * tx.slotSize;
  }

  forward(ifIdx: number, buf: Uint8Array, len: number): void {
    if (buf !== this.cur) {
      this.slot(ifIdx).set(buf.subarray(0, len));
      this.commit(ifIdx, len);
      return;
    }
    if (this.count[ifIdx] === this.socks[ifIdx].tx.count) this.flushOne(ifIdx);
    const k = this.count[ifIdx]++;
    this.lens[ifIdx][k] = len;
    this.addrs[ifIdx][k] = this.curAddr;
  }

  flush(): void {
    for (let i = 0; i < this.socks.length; i++) if (this.count[i]) this.flushOne(i);
  }

  private flushOne(i: number): void {
    const n = this.count[i];
    const tx = this.socks[i].tx;
    const lens = this.lens[i];
    const addrs = this.addrs[i];
    for (let k = 0; k < n; k++) tx.setIov(k, addrs[k], lens[k]);
    const sent = this.socks[i].send(n, lens);
    if (sent < n) this.cnt[C.tx_errors] += sent < 0 ? n : n - sent;
    this.count[i] = 0;
  }
}

let engine: PacketEngine | null = null;
let init: WorkerInit | null = null;
/** Per socket: its unicast filter, kept equal to the engine's VIP MACs of that interface. */
let filters: UnicastFilter[] = [];
let filtersVersion = -1;
/** Connection sync (--start-daemon) runs here, on the director that carries traffic (docs/sync.md). */
let sync: SyncDaemons | null = null;

function post(m: WorkerMessage): void {
  self.postMessage(m);
}

function handle(req: WorkerRequest): unknown {
  const e = engine!;
  switch (req.type) {
    case "apply":
      return sync ? followDaemonOps(sync, req.ops, e.apply(req.ops)) : e.apply(req.ops);
    case "snapshot":
      return e.snapshot(req.connections);
    case "arp-for":
      e.setArpFor(req.vips);
      return true;
    case "announce":
      return e.announce(req.vips ?? undefined);
    case "vip-vrids":
      e.setVrids(new Map(req.vrids));
      return true;
    case "neighbours":
      return e.neighbours.entries().map(
        (n): NeighbourEntry => ({
          ip: formatIpv4(n.ip),
          ifname: init!.interfaces[n.ifIdx]?.name ?? "?",
          mac: n.mac ? formatMac(n.mac) : null,
        }),
      );
  }
}

self.onmessage = (ev: MessageEvent<WorkerInit | WorkerRequest>) => {
  const m = ev.data;
  if (m.type === "init") {
    void start(m);
    return;
  }
  // Some requests answer later (a sync daemon's socket opening): reply when the result is there.
  Promise.resolve()
    .then(() => handle(m))
    .then((result) => {
      syncFilters();
      return result;
    })
    .then(
      (result) => post({ type: "reply", id: m.id, result }),
      (e) => post({ type: "reply", id: m.id, result: { error: (e as Error).message } }),
    );
};

async function start(m: WorkerInit): Promise<void> {
  init = m;
  const socks: PacketSocket[] = [];
  const rings: (RxRing | null)[] = [];
  try {
    for (const ifc of m.interfaces) {
      const s = PacketSocket.open(ifc.name, { batch: m.batch, rcvbuf: 4 << 20, sndbuf: 4 << 20 });
      socks.push(s);
      rings.push(RX_MODE === "ring" ? attachRing(s) : null);
      if (QDISC_BYPASS) bypassQdisc(s);
    }
  } catch (e) {
    for (const r of rings) r?.close();
    for (const s of socks) s.close();
    post({ type: "error", message: (e as Error).message });
    return;
  }
  const cnt = new Float64Array(m.counters);
  const control = new Int32Array(m.control);
  const tx = new SocketTx(socks, cnt);
  engine = new PacketEngine({
    interfaces: m.interfaces,
    counters: cnt,
    tx,
    now: performance.now(),
    vipMac: m.vipMac,
  });
  const log = (level: "info" | "warning" | "error", msg: string) => post({ type: "log", level, msg });
  filters = socks.map((s) => new UnicastFilter(s, log));
  sync = new SyncDaemons(engine.director, {
    log: (level, msg, fields) => post({ type: "log", level, msg, fields }),
  });
  post({ type: "ready" });
  try {
    await loop(engine, socks, rings, tx, cnt, control);
  } finally {
    await sync?.stop();
    tx.flush();
    for (const s of socks) s.close();
    for (const r of rings) r?.close();
    post({ type: "stopped" });
  }
}

/** Program the sockets' unicast filters when the engine's VIP MACs changed (after every request). */
function syncFilters(): void {
  const e = engine;
  if (!e || e.macsVersion === filtersVersion) return;
  filtersVersion = e.macsVersion;
  for (let i = 0; i < filters.length; i++) filters[i].sync(e.vipMacs.accepted(i));
}

/** The rx ring of `s`, or null (recvmmsg) when the kernel refuses one: logged, not fatal. */
function attachRing(s: PacketSocket): RxRing | null {
  try {
    return RxRing.attach(s, { frames: 2048, frameSize: 2048 });
  } catch (e) {
    post({
      type: "log",
      level: "warning",
      msg: `${s.ifname}: no rx ring (${(e as Error).message}), using recvmmsg`,
    });
    return null;
  }
}

async function loop(
  e: PacketEngine,
  socks: PacketSocket[],
  rings: (RxRing | null)[],
  tx: SocketTx,
  cnt: Float64Array,
  control: Int32Array,
): Promise<void> {
  const poller = new Poller(socks.map((s) => s.fd));
  let lastTick = 0;
  while (Atomics.load(control, STOP) === 0) {
    poller.wait(POLL_MS);
    const sliceEnd = performance.now() + SLICE_MS;
    for (;;) {
      const now = performance.now();
      e.setNow(now);
      let got = 0;
      for (let i = 0; i < socks.length; i++) {
        const r = rings[i];
        got += r ? receiveRing(e, r, i, tx, cnt) : receive(e, socks[i], i, tx, cnt);
      }
      tx.flush();
      // Forwarded frames were sent from their ring slots: only now may the kernel reuse them.
      for (const r of rings) r?.release();
      if (got === 0 || now >= sliceEnd) break;
    }
    const now = performance.now();
    if (now - lastTick >= TICK_MS) {
      e.tick(now);
      tx.flush();
      lastTick = now;
    }
    // Let postMessage requests from the main thread run.
    await new Promise((r) => setImmediate(r));
  }
}

function receive(e: PacketEngine, s: PacketSocket, ifIdx: number, tx: SocketTx, cnt: Float64Array): number {
  const n = s.recv();
  if (n <= 0) return 0;
  const rx = s.rx;
  for (let i = 0; i < n; i++) {
    const type = s.pkttype(i);
    // Our own transmissions are not ours, nor frames for other hosts unless sent to a VIP's MAC.
    if (type === PACKET_OUTGOING) continue;
    if (type === PACKET_OTHERHOST && !e.acceptsOtherHost(ifIdx, rx.slots[i])) continue;
    if (s.truncated(i)) {
      cnt[C.frames_oversize]++;
      continue;
    }
    tx.receiving(rx.slots[i], rx.base + i * rx.slotSize);
    e.frame(ifIdx, rx.slots[i], s.len(i), s.status(i));
  }
  return n;
}

/** Up to BATCH frames read in place from the ring (held until `release`, after the flush). */
function receiveRing(e: PacketEngine, r: RxRing, ifIdx: number, tx: SocketTx, cnt: Float64Array): number {
  let n = 0;
  for (; n < RING_BATCH; n++) {
    const i = r.next();
    if (i < 0) break;
    const type = r.pkttype(i);
    if (type === PACKET_OUTGOING) continue;
    const buf = r.frame(i);
    if (type === PACKET_OTHERHOST && !e.acceptsOtherHost(ifIdx, buf)) continue;
    if (r.truncated(i)) {
      cnt[C.frames_oversize]++;
      continue;
    }
    tx.receiving(buf, r.addr(i));
    e.frame(ifIdx, buf, r.len(i), r.statusOf(i));
  }
  return n;
}
