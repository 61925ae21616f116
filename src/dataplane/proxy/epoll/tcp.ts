/**
 * The TCP half of the proxy plane on raw non-blocking sockets and one epoll set (what HAProxy and
 * nginx do by hand): accept4, connect with EINPROGRESS + SO_ERROR, recv into one shared buffer and
 * send straight on. A flow holds no buffer while idle: only the rest of a partial send is copied
 * and kept, and while it is pending its source is not read (backpressure: the kernel's receive
 * queue fills and TCP's window closes). Same flow semantics as ../tcp-proxy.ts: director events
 * (SYN_RECV while connecting, ESTABLISHED, FIN_WAIT/CLOSE_WAIT on half-close, TIME_WAIT after
 * both FINs, CLOSE on reset), a read counts as a packet, PROXY header first, loop guard.
 */
import { ptr } from "bun:ffi";
import { IPPROTO_TCP } from "../../../conntrack/states.ts";
import { account, type FlowRef, flowEvent, isLive, openFlow } from "../../../director/flows.ts";
import { formatAddrPort, type IpAddr } from "../../../model/addr.ts";
import type { Dest } from "../../../model/dest.ts";
import { errnoText } from "../../../sys/errno.ts";
import { sockSys } from "../../../sys/libc.ts";
import { readSockaddr, SOCKADDR_MAX, writeSockaddr } from "../../../sys/sockaddr.ts";
import {
  EAGAIN,
  EINPROGRESS,
  EINTR,
  EMFILE,
  ENFILE,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  MSG_DONTWAIT,
  MSG_MORE,
  MSG_NOSIGNAL,
  SHUT_WR,
  SO_ERROR,
  SO_REUSEADDR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  IPPROTO_TCP as SOL_TCP,
  TCP_NODELAY,
} from "../../../sys/stream-consts.ts";
import { countConnectFailure, type LiveFlow, type ProxyContext, unregister } from "../context.ts";
import { proxyHeader } from "../proxy-protocol.ts";
import type { TcpEndpoint } from "../tcp-proxy.ts";
import type { Deadlines, Expiring } from "./deadlines.ts";
import type { EpollLoop, FdHandler } from "./loop.ts";
import type { Movable, RelayPool } from "./relay.ts";
import {
  BACK_REST,
  END_CLIENT_FIN,
  END_CLOSED,
  END_RESET,
  END_SERVER_FIN,
  ENDS_C_EOF,
  ENDS_FIN_TO_C,
  ENDS_FIN_TO_U,
  ENDS_U_EOF,
  UP,
} from "./relay-protocol.ts";

const SEND_FLAGS = MSG_DONTWAIT | MSG_NOSIGNAL;
/**
 * What a connected socket is watched for. EPOLLOUT only while a send is pending (then it stays):
 * edge-triggered EPOLLOUT fires on every ACK that frees send space, two spurious events per
 * request and reply that each cost a wake-up and a dispatch.
 */
const WATCH = EPOLLIN | EPOLLRDHUP;
const WATCH_OUT = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
/**
 * Connections accepted per listener event, as HAProxy's tune.maxaccept. One per event left
 * clients waiting in the backlog while every other ready socket had its turn first (without
 * keep-alive every request is a new connection): ab -c32 without keep-alive, four alternating
 * rounds, 9.1-10.1k req/s with one, 10.8-11.2k with 64 (HAProxy 10.0-11.6k). The price: one
 * accept4 that finds the backlog empty per event.
 */
const ACCEPTS_PER_EVENT = 64;
/** Reads per side per event before other flows get a turn. */
const READS_PER_TURN = 8;
/**
 * Reads from the client after which an idle, connected flow moves to a relay thread: 2, a kept-
 * alive connection. Moving one-request connections too (after 1) cost more than it saved: ab -c32
 * without keep-alive, one session, 8.3-8.8k req/s against 11.2-11.3k when they stay (HAProxy
 * 10.1-11.8k): the hand-over and a second thread's wake-ups per connection. UVS_RELAY_AFTER=0..3
 * changes it (0: tests move every flow as soon as it is connected).
 */
const RELAY_AFTER = Math.min(3, Number(process.env.UVS_RELAY_AFTER ?? 2) || 0);

/** One buffer for every recv: its bytes are sent on at once, only a partial send's rest is kept. */
// Arrays whose address goes to the kernel are made over an explicit ArrayBuffer: JSC moves a small
// typed array's storage the first time its `.buffer` is read, which would leave ptr() stale.
const RBUF = new Uint8Array(new ArrayBuffer(256 * 1024));
const RBUF_PTR = ptr(RBUF);
const ADDR = new Uint8Array(new ArrayBuffer(SOCKADDR_MAX));
const ADDR_PTR = ptr(ADDR);
const ADDR_VIEW = new DataView(ADDR.buffer);
const ADDR_LEN = new Uint32Array(new ArrayBuffer(4));
const ADDR_LEN_PTR = ptr(ADDR_LEN);

/** The engine's shared state: the plane's context, the epoll loop, the connect deadlines. */
export interface EpollTcp {
  readonly ctx: ProxyContext;
  readonly loop: EpollLoop;
  readonly connecting: Deadlines;
  /** Relay threads for busy kept-alive flows, or null: all flows run here. */
  readonly relays: RelayPool | null;
}

/** A listening socket; `stop` closes it (connections run on), as Bun's listener.stop(false). */
export class EpollListener implements FdHandler {
  private stopped = false;

  private constructor(
    private readonly eng: EpollTcp,
    private readonly ep: TcpEndpoint,
    private readonly fd: number,
  ) {}

  /** Listen on the endpoint; throws naming the call and errno (address in use, not local). */
  static open(eng: EpollTcp, ep: TcpEndpoint): EpollListener {
    const af = ep.addr.af === "inet" ? 2 : 10;
    const fd = sockSys.socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`socket: ${errnoText(-fd)}`);
    const fail = (what: string, r: number): never => {
      sockSys.close(fd);
      throw new Error(`${what} ${ep.name}: ${errnoText(-r)}`);
    };
    sockSys.setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    // Accepted sockets inherit TCP_NODELAY from the listener (Linux): one call instead of one each.
    sockSys.setInt(fd, SOL_TCP, TCP_NODELAY, 1);
    const len = writeSockaddr(ADDR, ep.addr, ep.port);
    let r = sockSys.bind(fd, ADDR_PTR, len);
    if (r < 0) fail("bind", r);
    r = sockSys.listen(fd, 4096);
    if (r < 0) fail("listen", r);
    const l = new EpollListener(eng, ep, fd);
    r = eng.loop.add(fd, EPOLLIN, l, false);
    if (r < 0) fail("epoll_ctl", r);
    return l;
  }

  private pause(ms: number): void {
    this.eng.loop.remove(this.fd);
    setTimeout(() => {
      if (!this.stopped) this.eng.loop.add(this.fd, EPOLLIN, this, false);
    }, ms);
  }

  stop(_closeActive?: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    this.eng.loop.remove(this.fd);
    sockSys.close(this.fd);
  }

  /**
   * Up to ACCEPTS_PER_EVENT connections per event (the listener is level-triggered: epoll reports
   * it again while the backlog holds more).
   */
  onEvent(): void {
    for (let i = 0; i < ACCEPTS_PER_EVENT && !this.stopped; i++) if (!this.acceptOne()) return;
  }

  /** accept4 once; false when the backlog is empty or accepting failed. */
  private acceptOne(): boolean {
    ADDR_LEN[0] = SOCKADDR_MAX;
    const fd = sockSys.accept4(this.fd, ADDR_PTR, ADDR_LEN_PTR, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      acceptFlow(this.eng, this.ep, fd);
      return true;
    }
    // Out of descriptors: the plane stops its listeners and logs; it listens again under 90 %.
    // Short of that (ENFILE: the system's table is full), pause so the level-triggered
    // listener does not spin.
    if ((-fd === EMFILE || -fd === ENFILE) && !this.eng.ctx.fdPressure()) this.pause(100);
    // EAGAIN (the backlog is empty), ECONNABORTED, EINTR: next event.
    return false;
  }
}

/** A new client socket: schedule it, or reset it at once when there is no destination. */
function acceptFlow(eng: EpollTcp, ep: TcpEndpoint, fd: number): void {
  const { ctx } = eng;
  const peer = readSockaddr(ADDR_VIEW);
  const svc = ctx.director.services.get(ep.svcKey);
  const target =
    svc && peer
      ? openFlow(ctx.director, svc, {
          proto: IPPROTO_TCP,
          caddr: peer.addr,
          cport: peer.port,
          vaddr: ep.addr,
          vport: ep.port,
        })
      : null;
  if (!target || !peer) {
    ctx.counters.noDestination++;
    sockSys.resetClose(fd); // as IPVS answers a SYN it cannot schedule: the client sees a refusal
    return;
  }
  const pp = ctx.proxyProtocol(ep.svcKey, target.dest.key);
  const header = pp ? proxyHeader(pp, "tcp", peer, ep) : null;
  const flow = new EpollFlow(eng, ep, target.ref, target.dest, fd, header);
  // Before the socket joins the set: drained now, it raises no event until more comes.
  const first = flow.readFirst();
  if ((first < 0 && first !== -EAGAIN && first !== -EINTR) || eng.loop.add(fd, WATCH, flow) < 0) {
    flowEvent(ctx.director, target.ref, "reset");
    sockSys.resetClose(fd);
    return;
  }
  ctx.counters.accepted++;
  ctx.open.tcp++;
  ctx.flows.set(flow.ref.slot, flow);
  // readFirst's bytes are still at the start of RBUF: nothing above reads into it.
  flow.connect(target.daddr, target.dport, Math.max(first, 0));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// Flow flag bits (one number instead of a dozen booleans: smaller objects while idle).
const CONNECTED = 1 << 0;
const C_READABLE = 1 << 1; // the client may have bytes (edge seen, EAGAIN not yet)
const U_READABLE = 1 << 2;
const C_EOF = 1 << 3; // the client's FIN was read
const U_EOF = 1 << 4;
const FIN_TO_U = 1 << 5; // shutdown(SHUT_WR) done on the upstream socket
const FIN_TO_C = 1 << 6;
const ABORTED = 1 << 7; // reset, failed or expired: the entry was told; no "closed" event
const FINISHED = 1 << 8;
const DEFERRED = 1 << 9;
const C_HUP = 1 << 10; // the client's FIN (or an error) was signalled: read on to the 0 or the error
const U_HUP = 1 << 11;
const C_OUT = 1 << 12; // the client socket is watched for EPOLLOUT
const U_OUT = 1 << 13;
const C_DRY = 1 << 14; // readFirst() emptied the client's queue: no recv until its next edge
const C_FIN = 1 << 15; // the client's FIN is queued (EPOLLRDHUP without an error): a short read ends at it
const U_FIN = 1 << 16;
const MOVED = 1 << 17; // on a relay thread: its sockets are out of this loop's set
const NO_RELAY = 1 << 18; // came back from a relay (or none could take it): it stays here
const PENDING_EXPIRE = 1 << 19; // the director expired it while on a relay: expire when it is back
const EXCH_ONE = 1 << 20; // two bits: client reads so far, up to 3
const EXCH_MASK = 3 << 20;
/** Flags that keep a flow here: anything but the idle steady state. */
const BUSY =
  FINISHED |
  MOVED |
  NO_RELAY |
  DEFERRED |
  C_READABLE |
  U_READABLE |
  C_EOF |
  U_EOF |
  C_HUP |
  U_HUP |
  C_OUT |
  U_OUT;
const HANGUP = EPOLLRDHUP | EPOLLHUP | EPOLLERR;

/** `bit` when the event shows the peer's FIN and no error (a reset is EPOLLERR | EPOLLHUP). */
function finSeen(ev: number, bit: number): number {
  return (ev & (EPOLLRDHUP | EPOLLERR)) === EPOLLRDHUP ? bit : 0;
}

/**
 * A proxied connection: two descriptors, flag bits, and what is left of partial sends. Nothing
 * else is kept per flow (the client's address is in the director's entry): small while idle.
 */
export class EpollFlow implements LiveFlow, FdHandler, Expiring, Movable {
  private ufd = -1;
  private f = 0;
  /** The relay's id for this flow while MOVED. */
  private relayId = 0;
  /** Rest of a partial send to the upstream / to the client (the PROXY header before connect). */
  private toUp: Uint8Array | null;
  private toClient: Uint8Array | null = null;

  constructor(
    private readonly eng: EpollTcp,
    private readonly ep: TcpEndpoint,
    readonly ref: FlowRef,
    private readonly dest: Dest,
    private cfd: number,
    header: Uint8Array | null,
  ) {
    this.toUp = header;
  }

  /**
   * Read what the client sent with its handshake (a request usually is there by the time it is
   * accepted), so that it goes out with the connect: on loopback and fast links the connect is
   * done by the time it returns, and the first send both carries the request and shows that the
   * connection is up, without waiting for the connect's EPOLLOUT (as HAProxy does). Returns the
   * recv result; the bytes stay in RBUF for connect() (copied only if they must wait). The caller
   * resets the client on an error.
   */
  readFirst(): number {
    const n = sockSys.recv(this.cfd, RBUF_PTR, RBUF.length);
    if (n > 0) {
      account(this.eng.ctx.director, this.ref, "in", n);
      this.f += EXCH_ONE;
    }
    // Empty now (EAGAIN, or a short read): the next bytes raise an edge of their own.
    if (n === -EAGAIN || (n > 0 && n < RBUF.length)) this.f |= C_DRY;
    return n;
  }

  /** Connect upstream; `firstLen` bytes that readFirst() left at the start of RBUF go first. */
  connect(daddr: IpAddr, dport: number, firstLen = 0): void {
    // A real server that is one of our own listeners would make every connection spawn another.
    if (this.eng.ctx.listensOn(daddr, dport)) {
      this.connectFailed("the real server address is one of uvs's own listeners (the connection would loop)");
      return;
    }
    const fd = sockSys.socket(daddr.af === "inet" ? 2 : 10, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      this.connectFailed(`socket: ${errnoText(-fd)}`);
      return;
    }
    sockSys.setInt(fd, SOL_TCP, TCP_NODELAY, 1);
    const len = writeSockaddr(ADDR, daddr, dport);
    const r = sockSys.connect(fd, ADDR_PTR, len);
    if (r < 0 && r !== -EINPROGRESS) {
      sockSys.close(fd);
      this.connectFailed(errnoText(-r));
      return;
    }
    // Bytes to send (the PROXY header, then the client's first bytes, straight from RBUF when
    // there is no header): try at once. A send that takes bytes shows the connection is up;
    // EAGAIN means it is still connecting, and its end is reported as EPOLLOUT (or an error).
    const head = this.toUp;
    const out = head !== null && firstLen > 0 ? concat(head, RBUF.subarray(0, firstLen)) : head;
    const total = out !== null ? out.length : firstLen;
    const w = total === 0 ? -EAGAIN : sockSys.send(fd, out !== null ? ptr(out) : RBUF_PTR, total, SEND_FLAGS);
    if (w < 0 && w !== -EAGAIN) {
      sockSys.close(fd);
      this.connectFailed(errnoText(-w));
      return;
    }
    const up = w >= 0;
    // What was not taken waits for EPOLLOUT (copied out of the shared buffer).
    const sent = Math.max(w, 0);
    this.toUp = sent === total ? null : out !== null ? out.subarray(sent) : RBUF.slice(sent, firstLen);
    const watch = !up || this.toUp !== null ? WATCH_OUT : WATCH;
    if (this.eng.loop.add(fd, watch, this) < 0) {
      sockSys.close(fd);
      this.connectFailed(errnoText(EINPROGRESS));
      return;
    }
    this.ufd = fd;
    if (!up) {
      this.eng.connecting.add(this);
      return;
    }
    this.established(this.toUp !== null);
    if (this.toUp === null) this.run(); // else the socket is full: EPOLLOUT resumes
  }

  timedOut(): void {
    this.connectFailed("connect timeout");
  }

  onEvent(fd: number, ev: number): void {
    if (fd === this.cfd) {
      if (ev & (EPOLLIN | HANGUP)) this.f |= C_READABLE;
      if (ev & HANGUP) this.f |= C_HUP | finSeen(ev, C_FIN);
    } else if (fd === this.ufd) {
      if (!(this.f & CONNECTED)) {
        if (!this.upstreamReady(ev)) return;
      }
      if (ev & (EPOLLIN | HANGUP)) this.f |= U_READABLE;
      if (ev & HANGUP) this.f |= U_HUP | finSeen(ev, U_FIN);
    }
    this.run();
  }

  resume(): void {
    this.f &= ~DEFERRED;
    this.run();
  }

  buffered(): number {
    return (this.toUp?.length ?? 0) + (this.toClient?.length ?? 0);
  }

  /** The director expired the entry (idle timeout): close both sides now. */
  expire(): void {
    if (this.f & FINISHED) return;
    if (this.f & MOVED) {
      // The relay uses the sockets: ask for the flow back, then expire it.
      this.f |= PENDING_EXPIRE;
      this.eng.relays?.recall(this.relayId);
      return;
    }
    this.eng.ctx.counters.expired++;
    this.f |= ABORTED;
    this.close();
  }

  /** Close both sides at once (drain deadline, plane close): a reset for both peers. */
  close(): void {
    if (this.f & FINISHED) return;
    if (this.f & MOVED) {
      // Drain deadline or plane close: stop the relays (what they reported is applied, which may
      // end this flow), after which the sockets are only ours.
      this.eng.relays?.close();
      if (this.f & FINISHED) return;
      this.f &= ~MOVED;
    }
    this.abort();
    this.finish(true);
  }

  /** Bytes and reads a relay thread moved for this flow. */
  accounted(inBytes: number, inReads: number, outBytes: number, outReads: number): void {
    const d = this.eng.ctx.director;
    if (inReads > 0) account(d, this.ref, "in", inBytes, inReads);
    if (outReads > 0) account(d, this.ref, "out", outBytes, outReads);
  }

  /** A FIN the relay read and forwarded, or the end of the flow there (it closed the sockets). */
  ended(what: number): void {
    if (this.f & FINISHED) return;
    const d = this.eng.ctx.director;
    if (what === END_CLIENT_FIN) {
      this.f |= C_EOF | FIN_TO_U;
      flowEvent(d, this.ref, "client-fin");
    } else if (what === END_SERVER_FIN) {
      this.f |= U_EOF | FIN_TO_C;
      flowEvent(d, this.ref, "server-fin");
    } else if (what === END_CLOSED || what === END_RESET) {
      if (what === END_RESET) this.abort();
      this.f &= ~MOVED;
      this.cfd = -1;
      this.ufd = -1;
      this.finish(false);
    }
  }

  /**
   * Back from a relay thread. The sockets rejoin this loop's set, which reports what is pending
   * on them (bytes, a FIN, a hangup) as events; what the relay did is applied here: the FINs it
   * read and forwarded (`ends`), the rest of a partial send.
   */
  returned(why: number, side: number, ends: number, rest: Uint8Array | null): void {
    if (!(this.f & MOVED) || this.f & FINISHED) return;
    // It stays here from now on: it came back for a full socket, a bulk stream or a recall, none
    // of which a relay handles (and moving it again would only bounce it).
    this.f = (this.f & ~MOVED) | NO_RELAY;
    this.relayId = 0;
    if (ends & ENDS_C_EOF) this.f |= C_EOF;
    if (ends & ENDS_U_EOF) this.f |= U_EOF;
    if (ends & ENDS_FIN_TO_U) this.f |= FIN_TO_U;
    if (ends & ENDS_FIN_TO_C) this.f |= FIN_TO_C;
    const up = side === UP;
    if (why === BACK_REST && rest !== null) {
      if (up) this.toUp = rest;
      else this.toClient = rest;
    }
    const outC = this.toClient !== null;
    const outU = this.toUp !== null;
    const { loop } = this.eng;
    if (
      loop.add(this.cfd, outC ? WATCH_OUT : WATCH, this) < 0 ||
      loop.add(this.ufd, outU ? WATCH_OUT : WATCH, this) < 0
    ) {
      this.reset();
      return;
    }
    this.f |= (outC ? C_OUT : 0) | (outU ? U_OUT : 0);
    if (this.f & PENDING_EXPIRE) {
      this.f &= ~PENDING_EXPIRE;
      this.expire();
      return;
    }
    this.run();
  }

  /** An idle kept-alive flow goes to a relay thread (its sockets leave this loop's set). */
  private maybeMove(): void {
    const relays = this.eng.relays;
    if (relays === null || this.f & BUSY || (this.f & EXCH_MASK) < RELAY_AFTER * EXCH_ONE) return;
    if (this.toUp !== null || this.toClient !== null) return;
    const { loop } = this.eng;
    loop.remove(this.cfd);
    loop.remove(this.ufd);
    const id = relays.handoff(this, this.cfd, this.ufd);
    if (id > 0) {
      this.relayId = id;
      this.f |= MOVED;
      return;
    }
    // No relay can take it now: it stays (its sockets report what is pending when re-added).
    this.f |= NO_RELAY;
    if (loop.add(this.cfd, WATCH, this) < 0 || loop.add(this.ufd, WATCH, this) < 0) this.reset();
  }

  /** The connect finished (EPOLLOUT) or failed (EPOLLERR, HUP: SO_ERROR says why): false when it failed. */
  private upstreamReady(ev: number): boolean {
    if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return false;
    const err = ev & (EPOLLERR | EPOLLHUP) ? sockSys.getInt(this.ufd, SOL_SOCKET, SO_ERROR) : 0;
    if (err !== 0) {
      this.connectFailed(errnoText(Math.abs(err)));
      return false;
    }
    if (this.toUp === null) this.eng.loop.modify(this.ufd, WATCH);
    this.established(this.toUp !== null);
    return true;
  }

  /** The upstream connection is up; `watchingOut`: its socket is watched for EPOLLOUT (bytes wait). */
  private established(watchingOut: boolean): void {
    const readable = this.f & C_DRY ? 0 : C_READABLE;
    this.f = (this.f & ~C_DRY) | CONNECTED | readable | (watchingOut ? U_OUT : 0);
    flowEvent(this.eng.ctx.director, this.ref, "established");
  }

  private connectFailed(reason: string): void {
    if (this.f & (CONNECTED | FINISHED)) return;
    const { ctx } = this.eng;
    // Our own shortage of descriptors is not the real server's fault.
    if (!ctx.fdPressure()) {
      countConnectFailure(ctx, this.dest.key);
      ctx.log({
        type: "connect-failed",
        service: this.ep.svcKey,
        dest: this.dest.key,
        client: this.clientText(),
        reason,
      });
    }
    this.abort();
    this.finish(true);
  }

  /** "addr:port" of the client, from the director's entry (live until the flow reports its end). */
  private clientText(): string {
    const t = this.eng.ctx.director.conns;
    return isLive(this.eng.ctx.director, this.ref)
      ? formatAddrPort(t.caddr(this.ref.slot), t.cport(this.ref.slot))
      : "?";
  }

  /** Move what can be moved both ways; forward FINs; finish when both are done. */
  private run(): void {
    const f0 = this.f;
    if (f0 & FINISHED || !(f0 & CONNECTED)) return;
    if (this.toUp !== null && !this.flushUp()) return;
    if (this.toClient !== null && !this.flushClient()) return;
    if ((this.f & (C_READABLE | C_EOF)) === C_READABLE && this.toUp === null) {
      if (!this.pump(this.cfd, this.ufd, true)) return;
    }
    if ((this.f & (U_READABLE | U_EOF)) === U_READABLE && this.toClient === null) {
      if (!this.pump(this.ufd, this.cfd, false)) return;
    }
    this.forwardFins();
    this.maybeMove();
  }

  /**
   * recv from `src`, send to `dst`, until the source is dry, the destination is full (its rest is
   * kept and the source waits) or the turn is over. False when the flow ended (a reset).
   */
  private pump(src: number, dst: number, up: boolean): boolean {
    const readable = up ? C_READABLE : U_READABLE;
    const hup = up ? C_HUP : U_HUP;
    const fin = up ? C_FIN : U_FIN;
    for (let i = 0; i < READS_PER_TURN; i++) {
      const n = sockSys.recv(src, RBUF_PTR, RBUF.length);
      if (n > 0) {
        account(this.eng.ctx.director, this.ref, up ? "in" : "out", n);
        if (up && (this.f & EXCH_MASK) !== EXCH_MASK) this.f += EXCH_ONE;
        // A short read after the peer's FIN was signalled reached it: these are the last bytes.
        // MSG_MORE holds them for the FIN that forwardFins sends next, in one segment (as
        // HAProxy does), and the recv that would return 0 is saved.
        const last = n < RBUF.length && (this.f & fin) !== 0;
        let w = sockSys.send(dst, RBUF_PTR, n, last ? SEND_FLAGS | MSG_MORE : SEND_FLAGS);
        if (w < 0) {
          if (w !== -EAGAIN) return this.reset();
          w = 0;
        }
        if (w < n) {
          const rest = RBUF.slice(w, n);
          if (up) this.toUp = rest;
          else this.toClient = rest;
          this.watchOut(up);
          return true;
        }
        if (last) {
          this.sawEof(up);
          return true;
        }
        // A short read emptied the receive queue: what arrives later raises a new edge. Saves
        // the recv that would answer EAGAIN, unless a FIN is known to wait behind the data.
        if (n < RBUF.length && !(this.f & hup)) {
          this.f &= ~readable;
          return true;
        }
        continue;
      }
      if (n === 0) {
        this.sawEof(up);
        return true;
      }
      if (n === -EAGAIN) {
        this.f &= ~readable;
        return true;
      }
      if (n !== -EINTR) return this.reset();
    }
    if (!(this.f & DEFERRED)) {
      this.f |= DEFERRED;
      this.eng.loop.defer(this);
    }
    return true;
  }

  /** The client's (up) or the upstream's FIN was read. */
  private sawEof(up: boolean): void {
    this.f = (this.f & ~(up ? C_READABLE : U_READABLE)) | (up ? C_EOF : U_EOF);
    flowEvent(this.eng.ctx.director, this.ref, up ? "client-fin" : "server-fin");
  }

  /** Send the rest held for the upstream; false when the flow ended (a reset). */
  private flushUp(): boolean {
    const rest = this.sendRest(this.ufd, this.toUp!);
    if (rest === false) return false;
    this.toUp = rest;
    if (rest !== null) this.watchOut(true);
    return true;
  }

  private flushClient(): boolean {
    const rest = this.sendRest(this.cfd, this.toClient!);
    if (rest === false) return false;
    this.toClient = rest;
    if (rest !== null) this.watchOut(false);
    return true;
  }

  /** A send to the upstream (up) or the client is pending: watch that socket for EPOLLOUT too. */
  private watchOut(up: boolean): void {
    const bit = up ? U_OUT : C_OUT;
    if (this.f & bit) return;
    this.f |= bit;
    this.eng.loop.modify(up ? this.ufd : this.cfd, WATCH_OUT);
  }

  /** Send queued bytes: null when all went, what is left, or false after a reset. */
  private sendRest(fd: number, buf: Uint8Array): Uint8Array | null | false {
    const w = sockSys.send(fd, ptr(buf), buf.length, SEND_FLAGS);
    if (w === buf.length) return null;
    if (w >= 0) return buf.subarray(w);
    if (w === -EAGAIN) return buf;
    this.reset();
    return false;
  }

  private forwardFins(): void {
    let f = this.f;
    // Both FINs read and nothing queued: close() sends what shutdown() would (the receive queues
    // are empty, so a FIN, not a reset).
    if ((f & (C_EOF | U_EOF)) === (C_EOF | U_EOF) && this.toUp === null && this.toClient === null) {
      this.finish(false);
      return;
    }
    if ((f & (C_EOF | FIN_TO_U)) === C_EOF && this.toUp === null) {
      sockSys.shutdown(this.ufd, SHUT_WR);
      f |= FIN_TO_U;
    }
    if ((f & (U_EOF | FIN_TO_C)) === U_EOF && this.toClient === null) {
      sockSys.shutdown(this.cfd, SHUT_WR);
      f |= FIN_TO_C;
    }
    this.f = f;
    if ((f & (FIN_TO_U | FIN_TO_C)) === (FIN_TO_U | FIN_TO_C)) this.finish(false);
  }

  /** A side reset (or a send failed): the entry goes to CLOSE, both peers get a reset. */
  private reset(): false {
    this.abort();
    this.finish(true);
    return false;
  }

  private abort(): void {
    if (this.f & ABORTED) return;
    this.f |= ABORTED;
    flowEvent(this.eng.ctx.director, this.ref, "reset");
  }

  private finish(rst: boolean): void {
    if (this.f & FINISHED) return;
    this.f |= FINISHED;
    this.toUp = null;
    this.toClient = null;
    const { loop, ctx } = this.eng;
    for (const fd of [this.cfd, this.ufd]) {
      if (fd < 0) continue;
      loop.forget(fd);
      if (rst) sockSys.resetClose(fd);
      else sockSys.close(fd);
    }
    this.cfd = -1;
    this.ufd = -1;
    if (!(this.f & ABORTED)) flowEvent(ctx.director, this.ref, "closed");
    unregister(ctx, this);
    ctx.open.tcp--;
    ctx.flowEnded();
  }
}
