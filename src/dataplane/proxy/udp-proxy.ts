/**
 * The UDP half of the proxy plane: one socket bound to VIP:port; a flow per client address:port.
 * A client's first datagram schedules it; the flow gets its own connected socket to the real
 * server, whose replies go back to the client from the VIP:port socket. Every datagram is
 * accounted (and re-arms the entry); the flow ends when the director expires its entry (the UDP
 * idle timeout), as an IPVS UDP "connection" does.
 */
import type { udp } from "bun";
import { IPPROTO_UDP } from "../../conntrack/states.ts";
import {
  account,
  endFlowPacket,
  type FlowRef,
  type FlowTarget,
  flowEvent,
  openFlow,
} from "../../director/flows.ts";
import { type IpAddr, parseIp } from "../../model/addr.ts";
import { type LiveFlow, type ProxyContext, unregister } from "./context.ts";
import { proxyHeader } from "./proxy-protocol.ts";

/** Datagrams held per flow while its upstream socket is being opened (more are dropped). */
const MAX_PENDING = 16;
/** One datagram with a PROXY v2 header in front (65535 bytes of UDP payload + the largest header). */
const scratch = new Uint8Array(65535 + 64);

export interface UdpEndpoint {
  readonly name: string;
  readonly addr: IpAddr;
  readonly port: number;
  svcKey: string;
}

class UdpFlow implements LiveFlow {
  readonly ref: FlowRef;
  private upstream: udp.ConnectedSocket<"buffer"> | null = null;
  private pending: Uint8Array[] | null = [];
  private closed = false;

  constructor(
    private readonly front: UdpFront,
    readonly caddr: string,
    readonly cport: number,
    target: FlowTarget,
    private readonly header: Uint8Array | null,
  ) {
    this.ref = target.ref;
    const af = target.daddr.af;
    Bun.udpSocket({
      hostname: af === "inet6" ? "::" : "0.0.0.0",
      connect: { hostname: target.daddr.text, port: target.dport },
      socket: {
        data: (_s, d) => this.fromUpstream(d),
        // ICMP errors (port unreachable: ECONNREFUSED) surface here; unhandled they end the process.
        error: () => {
          this.front.ctx.counters.udpErrors++;
        },
      },
    }).then(
      (s) => this.opened(s),
      () => this.close(true),
    );
  }

  fromClient(d: Uint8Array): void {
    account(this.front.ctx.director, this.ref, "in", d.length);
    if (this.upstream) this.sendUp(this.upstream, d);
    else if (this.pending && this.pending.length < MAX_PENDING) this.pending.push(d);
    else this.front.ctx.counters.udpDropped++;
  }

  buffered(): number {
    let n = 0;
    for (const d of this.pending ?? []) n += d.length;
    return n;
  }

  expire(): void {
    this.front.ctx.counters.expired++;
    this.close(false);
  }

  /** End the flow; `tell` removes the connection entry too (it is not expiring by itself). */
  close(tell = true): void {
    if (this.closed) return;
    this.closed = true;
    unregister(this.front.ctx, this);
    if (tell) flowEvent(this.front.ctx.director, this.ref, "closed");
    this.upstream?.close();
    this.pending = null;
    this.front.flowClosed(this);
  }

  private opened(s: udp.ConnectedSocket<"buffer">): void {
    if (this.closed) {
      s.close();
      return;
    }
    this.upstream = s;
    for (const d of this.pending ?? []) this.sendUp(s, d);
    this.pending = null;
  }

  private fromUpstream(d: Uint8Array): void {
    if (this.closed) return;
    account(this.front.ctx.director, this.ref, "out", d.length);
    if (!this.front.socket.send(d, this.cport, this.caddr)) this.front.ctx.counters.udpDropped++;
  }

  private sendUp(s: udp.ConnectedSocket<"buffer">, d: Uint8Array): void {
    let out = d;
    if (this.header) {
      // PROXY v2 over UDP: the header leads every datagram. send() copies, so one scratch suffices.
      scratch.set(this.header, 0);
      scratch.set(d, this.header.length);
      out = scratch.subarray(0, this.header.length + d.length);
    }
    if (!s.send(out)) this.front.ctx.counters.udpDropped++;
  }
}

/** The VIP:port socket and its flows. */
export class UdpFront {
  /** Flows by client address, then port (no key string built per datagram). */
  private readonly flows = new Map<string, Map<number, UdpFlow>>();
  private count = 0;
  /** Removed from the config: no new clients; the socket closes when its last flow ends. */
  draining = false;

  private constructor(
    readonly ctx: ProxyContext,
    readonly ep: UdpEndpoint,
    readonly socket: udp.Socket<"buffer">,
    private readonly onIdle: (front: UdpFront) => void,
  ) {}

  /** Bind the endpoint; rejects with what Bun.udpSocket rejects (address in use, not local). */
  static async open(ctx: ProxyContext, ep: UdpEndpoint, onIdle: (f: UdpFront) => void): Promise<UdpFront> {
    let front: UdpFront | null = null;
    const socket = await Bun.udpSocket({
      hostname: ep.addr.text,
      port: ep.port,
      socket: {
        data: (_s, d, port, addr) => front?.fromClient(d, port, addr),
        error: () => {
          ctx.counters.udpErrors++;
        },
      },
    });
    front = new UdpFront(ctx, ep, socket, onIdle);
    return front;
  }

  get flowCount(): number {
    return this.count;
  }

  /** Close every flow (removing their entries) and the socket. */
  close(): void {
    for (const byPort of [...this.flows.values()]) for (const f of [...byPort.values()]) f.close(true);
    this.socket.close();
  }

  flowClosed(f: UdpFlow): void {
    const byPort = this.flows.get(f.caddr);
    if (byPort?.get(f.cport) !== f) return;
    byPort.delete(f.cport);
    if (byPort.size === 0) this.flows.delete(f.caddr);
    this.count--;
    this.ctx.open.udp--;
    this.ctx.flowEnded();
    if (this.draining && this.count === 0) this.onIdle(this);
  }

  private fromClient(d: Uint8Array, port: number, addr: string): void {
    const flow = this.flows.get(addr)?.get(port) ?? this.newFlow(addr, port, d.length);
    flow?.fromClient(d); // no flow: counted as noDestination
  }

  private newFlow(addr: string, port: number, bytes: number): UdpFlow | null {
    const { ctx, ep } = this;
    const svc = this.draining ? undefined : ctx.director.services.get(ep.svcKey);
    const caddr = parseIp(addr);
    const nf = { proto: IPPROTO_UDP, caddr: caddr!, cport: port, vaddr: ep.addr, vport: ep.port };
    const target = svc && caddr ? openFlow(ctx.director, svc, nf) : null;
    if (!target) {
      ctx.counters.noDestination++;
      return null;
    }
    // -o: the entry is for this datagram only (counted in Conns and InPkts); the client's flow
    // socket still relays replies, and its later datagrams keep this real server (docs/rules-file.md, ops).
    if (target.onePacket) {
      account(ctx.director, target.ref, "in", bytes);
      endFlowPacket(ctx.director, target.ref);
    }
    const pp = ctx.proxyProtocol(ep.svcKey, target.dest.key);
    const header = pp ? proxyHeader(pp, "udp", { addr: caddr!, port }, ep) : null;
    const flow = new UdpFlow(this, addr, port, target, header);
    const byPort = this.flows.get(addr);
    if (byPort) byPort.set(port, flow);
    else this.flows.set(addr, new Map([[port, flow]]));
    this.count++;
    ctx.counters.accepted++;
    ctx.open.udp++;
    ctx.flows.set(flow.ref.slot, flow);
    return flow;
  }
}
