/**
 * The TCP half of the proxy plane: one `Bun.listen` per VIP:port; each accepted client is
 * scheduled by the director and joined to a new upstream connection to the chosen real server.
 * Socket events drive the connection entry (SYN_RECV while connecting, ESTABLISHED, CLOSE_WAIT /
 * FIN_WAIT on half-close, TIME_WAIT after both sides closed, CLOSE on reset), as Envoy's
 * tcp_proxy does with its upstream/downstream callbacks. Handlers are shared objects and
 * `socket.data` points at the flow, so nothing is allocated per chunk.
 */
import type { Socket, TCPSocketListener } from "bun";
import { IPPROTO_TCP } from "../../conntrack/states.ts";
import { account, type FlowRef, type FlowTarget, flowEvent, openFlow } from "../../director/flows.ts";
import { type IpAddr, parseIp } from "../../model/addr.ts";
import { countConnectFailure, type LiveFlow, type ProxyContext, unregister } from "./context.ts";
import { NO_SOURCE, Pipe } from "./pipe.ts";
import { proxyHeader } from "./proxy-protocol.ts";

type ClientSocket = Socket<TcpFlow | undefined>;
type UpstreamSocket = Socket<TcpFlow>;

/** A listening VIP:port; `svcKey` may be re-pointed by a later sync. */
export interface TcpEndpoint {
  readonly name: string;
  readonly addr: IpAddr;
  readonly port: number;
  svcKey: string;
}

export class TcpFlow implements LiveFlow {
  readonly ref: FlowRef;
  private upstream: UpstreamSocket | null = null;
  /** client → real server, real server → client. */
  private readonly toUp: Pipe;
  private readonly toClient = new Pipe(NO_SOURCE);
  private clientFin = false;
  private serverFin = false;
  private clientDone = false;
  private upstreamDone = false;
  /** Reset, failed or expired: the entry was already told (or is gone); no "closed" event. */
  private aborted = false;
  private finished = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly client: ClientSocket,
    private readonly ep: TcpEndpoint,
    private readonly target: FlowTarget,
    header: Uint8Array | null,
  ) {
    this.ref = target.ref;
    this.toUp = new Pipe(client);
    // The PROXY header goes first: queued before any client byte, sent when the upstream opens.
    if (header) this.toUp.push(header);
  }

  /** Open the upstream connection, bounded by the connect timeout. */
  connect(): void {
    const { daddr, dport } = this.target;
    // A real server that is one of our own listeners (easy to write for a port-0 or fwmark
    // service, whose connections keep the client's port) would make every connection spawn another.
    if (this.ctx.listensOn(daddr, dport)) {
      this.connectFailed("the real server address is one of uvs's own listeners (the connection would loop)");
      return;
    }
    this.timer = setTimeout(() => this.connectFailed("connect timeout"), this.ctx.connectTimeoutMs);
    Bun.connect<TcpFlow>({
      hostname: daddr.text,
      port: dport,
      allowHalfOpen: true,
      data: this,
      socket: UPSTREAM_HANDLERS,
    }).catch(() => {}); // reported through connectError
  }

  upstreamOpened(s: UpstreamSocket): void {
    if (this.aborted) {
      s.terminate(); // timed out, or the client left meanwhile: no one to serve
      return;
    }
    this.clearTimer();
    this.upstream = s;
    this.toUp.dst = s;
    this.toClient.src = s;
    this.toClient.dst = this.client;
    flowEvent(this.ctx.director, this.ref, "established");
    this.toUp.flush();
  }

  connectFailed(reason: string): void {
    if (this.aborted || this.upstream) return;
    const { ctx, target } = this;
    if (ctx.fdPressure()) {
      // Our own shortage, not the real server's fault (Bun reports it as a refused connect).
      this.giveUpConnect();
      this.client.terminate();
      this.maybeFinish();
      return;
    }
    countConnectFailure(ctx, target.dest.key);
    ctx.log({
      type: "connect-failed",
      service: this.ep.svcKey,
      dest: target.dest.key,
      client: `${this.client.remoteAddress}:${this.client.remotePort}`,
      reason,
    });
    this.giveUpConnect();
    this.client.terminate();
    this.maybeFinish();
  }

  fromClient(chunk: Uint8Array): void {
    if (this.upstreamDone) {
      // Nowhere to deliver (the real server closed): what a closed socket answers, a reset.
      this.client.terminate();
      return;
    }
    account(this.ctx.director, this.ref, "in", chunk.length);
    this.toUp.push(chunk);
  }

  fromUpstream(chunk: Uint8Array): void {
    if (this.clientDone) {
      this.upstream?.terminate();
      return;
    }
    account(this.ctx.director, this.ref, "out", chunk.length);
    this.toClient.push(chunk);
  }

  clientDrained(): void {
    this.toClient.flush();
  }

  upstreamDrained(): void {
    this.toUp.flush();
  }

  clientEnded(): void {
    if (this.clientFin) return;
    this.clientFin = true;
    flowEvent(this.ctx.director, this.ref, "client-fin");
    this.toUp.end();
  }

  upstreamEnded(): void {
    if (this.serverFin) return;
    this.serverFin = true;
    flowEvent(this.ctx.director, this.ref, "server-fin");
    this.toClient.end();
  }

  clientClosed(err: Error | undefined): void {
    if (this.clientDone) return;
    this.clientDone = true;
    this.toClient.discard();
    if (this.upstream === null) this.giveUpConnect();
    else if (err) this.reset(this.upstream);
    else if (!this.clientFin && !this.aborted) this.clientEnded(); // Bun may skip `end` on a full close
    this.maybeFinish();
  }

  upstreamClosed(s: UpstreamSocket, err: Error | undefined): void {
    if (s !== this.upstream || this.upstreamDone) return;
    this.upstreamDone = true;
    this.toUp.discard();
    if (err) this.reset(this.client);
    else if (!this.serverFin && !this.aborted) this.upstreamEnded();
    this.maybeFinish();
  }

  buffered(): number {
    return this.toUp.queued + this.toClient.queued;
  }

  /** The director expired the entry (idle timeout): close both sides now. */
  expire(): void {
    if (this.finished) return;
    this.ctx.counters.expired++;
    this.aborted = true;
    this.close();
  }

  /** A handler threw (a bug): log it and close the flow rather than leave it half working. */
  failed(err: Error): void {
    this.ctx.log({
      type: "warning",
      message: `TCP flow of "${this.ep.svcKey}" closed after an error: ${errorText(err)}`,
    });
    this.close();
  }

  /** Close both sides at once (drain deadline, plane close). */
  close(): void {
    if (this.upstream === null) this.giveUpConnect();
    else if (!this.aborted) this.abort();
    this.upstream?.terminate();
    this.client.terminate();
    // Done now, whatever the close callbacks later say.
    this.clientDone = true;
    this.upstreamDone = true;
    this.maybeFinish();
  }

  /** One side reset: the entry goes to CLOSE and the other side is reset too. */
  private reset(other: ClientSocket | UpstreamSocket): void {
    if (!this.aborted) this.abort();
    other.terminate();
  }

  /** Stop waiting for the upstream connection; a late one is terminated when it opens. */
  private giveUpConnect(): void {
    this.clearTimer();
    if (!this.aborted) this.abort();
    this.upstreamDone = true;
  }

  private abort(): void {
    this.aborted = true;
    flowEvent(this.ctx.director, this.ref, "reset");
  }

  private maybeFinish(): void {
    if (this.finished || !this.clientDone || !this.upstreamDone) return;
    this.finished = true;
    this.clearTimer();
    if (!this.aborted) flowEvent(this.ctx.director, this.ref, "closed");
    unregister(this.ctx, this);
    this.ctx.open.tcp--;
    this.ctx.flowEnded();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

const UPSTREAM_HANDLERS = {
  open: (s: UpstreamSocket) => s.data.upstreamOpened(s),
  data: (s: UpstreamSocket, d: Uint8Array) => s.data.fromUpstream(d),
  drain: (s: UpstreamSocket) => s.data.upstreamDrained(),
  end: (s: UpstreamSocket) => s.data.upstreamEnded(),
  close: (s: UpstreamSocket, err?: Error) => s.data.upstreamClosed(s, err),
  connectError: (s: UpstreamSocket, err: Error) => s.data.connectFailed(errorText(err)),
  error: (s: UpstreamSocket, err: Error) => s.data.failed(err),
};

/** "ECONNREFUSED: Failed to connect": Bun's messages alone do not say why. */
function errorText(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

/** Accept one client: schedule it, or turn it away at once when there is no destination. */
function accept(ctx: ProxyContext, ep: TcpEndpoint, s: ClientSocket): void {
  const svc = ctx.director.services.get(ep.svcKey);
  const caddr = parseIp(s.remoteAddress);
  const cport = s.remotePort;
  const target =
    svc && caddr
      ? openFlow(ctx.director, svc, { proto: IPPROTO_TCP, caddr, cport, vaddr: ep.addr, vport: ep.port })
      : null;
  if (!target) {
    ctx.counters.noDestination++;
    s.terminate(); // as IPVS answers a SYN it cannot schedule: the client sees a refusal
    return;
  }
  const pp = ctx.proxyProtocol(ep.svcKey, target.dest.key);
  const header = pp ? proxyHeader(pp, "tcp", { addr: caddr!, port: cport }, ep) : null;
  const flow = new TcpFlow(ctx, s, ep, target, header);
  s.data = flow;
  ctx.counters.accepted++;
  ctx.open.tcp++;
  ctx.flows.set(flow.ref.slot, flow);
  flow.connect();
}

/** Listen on the endpoint; throws what Bun.listen throws (address in use, not local). */
export function listenTcp(ctx: ProxyContext, ep: TcpEndpoint): TCPSocketListener<TcpFlow | undefined> {
  return Bun.listen<TcpFlow | undefined>({
    hostname: ep.addr.text,
    port: ep.port,
    allowHalfOpen: true,
    socket: {
      open: (s) => accept(ctx, ep, s),
      data: (s, d) => s.data?.fromClient(d),
      drain: (s) => s.data?.clientDrained(),
      end: (s) => s.data?.clientEnded(),
      close: (s, err) => s.data?.clientClosed(err),
      error: (s, err) => s.data?.failed(err),
    },
  });
}
