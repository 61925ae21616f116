/**
 * The proxy data plane: listeners for every configured VIP:port (TCP) and bound sockets (UDP),
 * kept in step with the configuration by `sync`, plus stats, drain and close. Policy stays in the
 * director; this only holds sockets. A listen failure is an event, never a crash: the other
 * endpoints keep working and the next sync tries again.
 */
import type { Director } from "../../director/director.ts";
import type { IpAddr } from "../../model/addr.ts";
import { fdLimit, fdsExhausted, fdsInUse } from "../../sys/fd-usage.ts";
import { endpointName, type ProxyContext, type ProxyLogEvent } from "./context.ts";
import type { EpollEngine } from "./epoll/engine.ts";
import type { ProxyProtocolVersion } from "./proxy-protocol.ts";
import { listenTcp, type TcpEndpoint } from "./tcp-proxy.ts";
import { UdpFront } from "./udp-proxy.ts";

export type { ProxyLogEvent } from "./context.ts";

export interface ProxyListen {
  addr: IpAddr;
  port: number;
  protocol: "tcp" | "udp";
}

export interface ProxyServiceSpec {
  /** serviceKey() of the director's service. */
  key: string;
  listen: ProxyListen[];
  /** Real servers ("addr:port") that want a PROXY protocol header. */
  proxyProtocol: Map<string, ProxyProtocolVersion>;
}

export interface ProxyPlaneOptions {
  log(event: ProxyLogEvent): void;
  /** Upstream connect timeout. @default 5000 */
  connectTimeoutMs?: number;
  /**
   * TCP engine: "bun" (Bun.listen/Bun.connect) or "epoll" (raw sockets and epoll through bun:ffi,
   * Linux only: docs/proxy-engine.md). @default UVS_PROXY_ENGINE from the environment, else
   * "epoll" on Linux (≤ 1.4 KiB per idle connection, throughput at parity) and "bun" elsewhere
   */
  tcpEngine?: ProxyTcpEngine;
  /**
   * Relay threads of the epoll engine: busy kept-alive flows move their bytes there, on other
   * cores (docs/proxy-engine.md). 0: everything on the main thread. @default UVS_PROXY_THREADS
   * from the environment, else the number of CPUs when there are two or more, else 0
   */
  relayThreads?: number;
}

/** --proxy-threads / UVS_PROXY_THREADS: a count from 0 to 64, or the default (CPUs when ≥ 2). */
export function relayThreadCount(text: string | undefined): number {
  if (text === undefined || text === "") {
    const cpus = navigator.hardwareConcurrency ?? 1;
    return cpus >= 2 ? Math.min(cpus, 64) : 0;
  }
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 64)
    throw new Error(
      `proxy threads ${JSON.stringify(text)}: expected a count from 0 to 64 (--proxy-threads, UVS_PROXY_THREADS)`,
    );
  return n;
}

export type ProxyTcpEngine = "bun" | "epoll";

/** --proxy-engine / UVS_PROXY_ENGINE: "bun" or "epoll"; a clear Error otherwise. */
export function proxyTcpEngine(text: string | undefined): ProxyTcpEngine {
  if (text === undefined || text === "") return process.platform === "linux" ? "epoll" : "bun";
  if (text === "bun") return "bun";
  if (text === "epoll") return "epoll";
  throw new Error(
    `proxy engine ${JSON.stringify(text)}: expected bun or epoll (--proxy-engine, UVS_PROXY_ENGINE)`,
  );
}

export interface ProxyStats {
  /** Open endpoints (`tcp:127.0.0.1:80`) with their service; `draining` for removed UDP ones. */
  listeners: { endpoint: string; service: string; draining: boolean }[];
  /** Endpoints whose last listen attempt failed, with the error. */
  listenerFailures: { endpoint: string; error: string }[];
  listenerErrors: number;
  openConnections: number;
  /** Of those, connections whose bytes a relay thread moves now (epoll engine). */
  relayedConnections: number;
  udpFlows: number;
  /** Bytes held in backpressure queues right now, over all flows. */
  bufferedBytes: number;
  accepted: number;
  noDestination: number;
  expired: number;
  udpDropped: number;
  udpErrors: number;
  /** Upstream connect failures per real server ("addr:port"). */
  connectFailures: Record<string, number>;
}

/** What both engines' listeners offer: stop accepting (open connections run on). */
interface TcpListener {
  stop(closeActive?: boolean): void;
}

interface TcpListening {
  ep: TcpEndpoint;
  listener: TcpListener;
}

interface Wanted extends ProxyListen {
  name: string;
  svcKey: string;
}

export class ProxyPlane {
  private readonly ctx: ProxyContext;
  private readonly tcp = new Map<string, TcpListening>();
  private readonly udp = new Map<string, UdpFront>();
  private readonly failing = new Map<string, string>();
  private proxyProtocols = new Map<string, Map<string, ProxyProtocolVersion>>();
  private readonly warned = new Set<string>();
  private accepting = true;
  private syncing: Promise<void> = Promise.resolve();
  private idleWaiters: (() => void)[] = [];
  /** The epoll engine when selected and available; null: Bun's sockets. */
  private readonly epoll: EpollEngine | null;

  constructor(
    private readonly director: Director,
    opts: ProxyPlaneOptions,
  ) {
    this.ctx = {
      director,
      log: opts.log,
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
      relayThreads: opts.relayThreads ?? relayThreadCount(process.env.UVS_PROXY_THREADS),
      counters: { accepted: 0, noDestination: 0, expired: 0, listenerErrors: 0, udpDropped: 0, udpErrors: 0 },
      connectFailures: new Map(),
      flows: new Map(),
      open: { tcp: 0, udp: 0 },
      proxyProtocol: (svc, dest) => this.proxyProtocols.get(svc)?.get(dest),
      flowEnded: () => this.flowEnded(),
      listensOn: (addr, port) => this.listensOn(addr, port),
      fdPressure: () => this.fdPressure(),
    };
    director.hooks.expired = this.onExpired;
    const engine = opts.tcpEngine ?? proxyTcpEngine(process.env.UVS_PROXY_ENGINE);
    this.epoll = engine === "epoll" ? loadEpoll(this.ctx) : null;
  }

  /** The TCP engine in use ("epoll" only when it was asked for and could start). */
  get tcpEngine(): ProxyTcpEngine {
    return this.epoll ? "epoll" : "bun";
  }

  private openTcp(ep: TcpEndpoint): TcpListener {
    return this.epoll ? this.epoll.listen(ep) : listenTcp(this.ctx, ep);
  }

  /** Open listeners for new endpoints, close those that went away. Calls run one after another. */
  sync(services: ProxyServiceSpec[]): Promise<void> {
    this.syncing = this.syncing.then(() => this.apply(services));
    return this.syncing;
  }

  /**
   * Out of file descriptors, accept(2) fails inside Bun without a word to us, and connects fail as
   * "refused". A watch (once a second, and on every failed connect) notices the shortage, stops
   * the TCP listeners and says so; once usage is below 90 % of the limit they listen again.
   */
  private fdPaused = false;
  private readonly fdWatch = setInterval(() => this.checkFds(), 1000);

  private fdPressure(): boolean {
    this.checkFds();
    return this.fdPaused;
  }

  private checkFds(): void {
    if (!this.fdPaused) {
      if (this.tcp.size === 0 || !fdsExhausted(16)) return;
      this.fdPaused = true;
      for (const t of this.tcp.values()) t.listener.stop(false);
      this.ctx.log({
        type: "warning",
        message: "out of file descriptors: not accepting new TCP connections until some close",
      });
      return;
    }
    if (fdsInUse() >= fdLimit() * 0.9) return;
    this.fdPaused = false;
    for (const t of this.tcp.values()) {
      try {
        t.listener = this.openTcp(t.ep);
      } catch (err) {
        this.listenFailed(t.ep.name, err);
      }
    }
    this.ctx.log({ type: "warning", message: "file descriptors available again: accepting TCP connections" });
  }

  private listensOn(addr: IpAddr, port: number): boolean {
    for (const { ep } of this.tcp.values()) {
      if (ep.port !== port || ep.addr.af !== addr.af) continue;
      const wildcard = ep.addr.text === "0.0.0.0" || ep.addr.text === "::";
      if (wildcard || ep.addr.text === addr.text) return true;
    }
    return false;
  }

  stats(): ProxyStats {
    const c = this.ctx.counters;
    const listeners = [
      ...[...this.tcp.values()].map((t) => ({ endpoint: t.ep.name, service: t.ep.svcKey, draining: false })),
      ...[...this.udp.values()].map((u) => ({
        endpoint: u.ep.name,
        service: u.ep.svcKey,
        draining: u.draining,
      })),
    ];
    return {
      listeners,
      listenerFailures: [...this.failing].map(([endpoint, error]) => ({ endpoint, error })),
      listenerErrors: c.listenerErrors,
      openConnections: this.ctx.open.tcp,
      relayedConnections: this.epoll?.relays?.size ?? 0,
      udpFlows: this.ctx.open.udp,
      bufferedBytes: [...this.ctx.flows.values()].reduce((n, f) => n + f.buffered(), 0),
      accepted: c.accepted,
      noDestination: c.noDestination,
      expired: c.expired,
      udpDropped: c.udpDropped,
      udpErrors: c.udpErrors,
      connectFailures: Object.fromEntries(this.ctx.connectFailures),
    };
  }

  /** Stop accepting, let open flows finish for up to `timeoutMs`, then close what is left. */
  async drain(timeoutMs: number): Promise<void> {
    this.accepting = false;
    await this.syncing;
    for (const name of [...this.tcp.keys()]) this.unlistenTcp(name);
    for (const front of [...this.udp.values()]) this.retireUdp(front);
    await this.waitIdle(timeoutMs);
    this.closeAll();
  }

  async close(): Promise<void> {
    clearInterval(this.fdWatch);
    this.accepting = false;
    await this.syncing;
    for (const name of [...this.tcp.keys()]) this.unlistenTcp(name);
    this.closeAll();
    this.epoll?.close();
    if (this.director.hooks.expired === this.onExpired) this.director.hooks.expired = undefined;
  }

  private async apply(services: ProxyServiceSpec[]): Promise<void> {
    if (!this.accepting) return;
    this.proxyProtocols = new Map(services.map((s) => [s.key, s.proxyProtocol]));
    const wanted = wantedEndpoints(services);
    this.warnUdpV1(services);
    for (const name of [...this.failing.keys()]) if (!wanted.has(name)) this.failing.delete(name);
    for (const name of [...this.tcp.keys()]) if (!wanted.has(name)) this.unlistenTcp(name);
    for (const [name, front] of this.udp) if (!wanted.has(name)) this.retireUdp(front);
    const opening: Promise<void>[] = [];
    for (const w of wanted.values()) {
      if (w.protocol === "tcp") this.listenTcp(w);
      else opening.push(this.listenUdp(w));
    }
    await Promise.all(opening);
  }

  private listenTcp(w: Wanted): void {
    const cur = this.tcp.get(w.name);
    if (cur) {
      cur.ep.svcKey = w.svcKey;
      return;
    }
    const ep: TcpEndpoint = { name: w.name, addr: w.addr, port: w.port, svcKey: w.svcKey };
    try {
      this.tcp.set(w.name, { ep, listener: this.openTcp(ep) });
      this.listening(w.name);
    } catch (err) {
      this.listenFailed(w.name, err);
    }
  }

  private async listenUdp(w: Wanted): Promise<void> {
    const cur = this.udp.get(w.name);
    if (cur) {
      cur.ep.svcKey = w.svcKey;
      cur.draining = false;
      return;
    }
    const ep = { name: w.name, addr: w.addr, port: w.port, svcKey: w.svcKey };
    try {
      this.udp.set(w.name, await UdpFront.open(this.ctx, ep, (f) => this.closeUdp(f)));
      this.listening(w.name);
    } catch (err) {
      this.listenFailed(w.name, err);
    }
  }

  private listening(name: string): void {
    this.failing.delete(name);
    this.ctx.log({ type: "listening", endpoint: name });
  }

  private listenFailed(name: string, err: unknown): void {
    const error = err instanceof Error ? err.message : String(err);
    this.failing.set(name, error);
    this.ctx.counters.listenerErrors++;
    this.ctx.log({ type: "listen-error", endpoint: name, error });
  }

  /** Stop accepting on a TCP endpoint; its connections run on until they end. */
  private unlistenTcp(name: string): void {
    const t = this.tcp.get(name);
    if (!t) return;
    this.tcp.delete(name);
    t.listener.stop(false);
    this.ctx.log({ type: "listener-closed", endpoint: name });
  }

  /** A UDP socket also carries the replies: take no new clients, close it after the last flow. */
  private retireUdp(front: UdpFront): void {
    front.draining = true;
    if (front.flowCount === 0) this.closeUdp(front);
  }

  private closeUdp(front: UdpFront): void {
    if (this.udp.get(front.ep.name) !== front) return;
    this.udp.delete(front.ep.name);
    front.close();
    this.ctx.log({ type: "listener-closed", endpoint: front.ep.name });
  }

  private closeAll(): void {
    for (const f of [...this.ctx.flows.values()]) f.close();
    for (const front of [...this.udp.values()]) this.closeUdp(front);
    this.flowEnded();
  }

  private warnUdpV1(services: ProxyServiceSpec[]): void {
    for (const s of services) {
      if (!s.listen.some((l) => l.protocol === "udp")) continue;
      for (const [dest, v] of s.proxyProtocol) {
        const key = `${s.key} ${dest}`;
        if (v !== "v1" || this.warned.has(key)) continue;
        this.warned.add(key);
        this.ctx.log({
          type: "warning",
          message: `PROXY v1 has no UDP form: not sent to "${dest}" of "${s.key}"`,
        });
      }
    }
  }

  private readonly onExpired = (slot: number, serial: number): void => {
    const flow = this.ctx.flows.get(slot);
    if (!flow || flow.ref.serial !== serial) return;
    this.ctx.flows.delete(slot);
    flow.expire();
  };

  // Draining waits for TCP connections only: a UDP flow has no end of its own (it ends when its
  // entry times out, minutes later), so it is closed with the rest once TCP is done.
  private flowEnded(): void {
    if (this.ctx.open.tcp > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private waitIdle(timeoutMs: number): Promise<void> {
    if (this.ctx.open.tcp === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/**
 * The epoll engine, or null with a log line where it cannot run (not Linux, no libc.so.6): the
 * plane then uses Bun's sockets. Required lazily so that loading libc is tried only when asked for.
 */
function loadEpoll(ctx: ProxyContext): EpollEngine | null {
  if (process.platform !== "linux") {
    ctx.log({ type: "warning", message: "the epoll proxy engine needs Linux: using Bun's sockets" });
    return null;
  }
  try {
    const mod = require("./epoll/engine.ts") as typeof import("./epoll/engine.ts");
    return new mod.EpollEngine(ctx);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    ctx.log({
      type: "warning",
      message: `the epoll proxy engine could not start (${why}): using Bun's sockets`,
    });
    return null;
  }
}

function wantedEndpoints(services: ProxyServiceSpec[]): Map<string, Wanted> {
  const out = new Map<string, Wanted>();
  for (const s of services) {
    for (const l of s.listen) {
      const name = endpointName(l.protocol, l.addr, l.port);
      out.set(name, { ...l, name, svcKey: s.key });
    }
  }
  return out;
}
