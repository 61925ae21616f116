/**
 * HTTP on raw Bun.connect sockets, one per slot (fetch would pool connections and hide the
 * connects that ab times). Per request: connect unless the slot holds a kept-alive socket,
 * write the prebuilt request, parse the answer, then keep the socket or close it. The socket
 * handlers are one shared object; a Conn (one per TCP connection, not per request) ties a
 * socket to its slot and marks sockets the run has given up on, whose late events are ignored.
 */
import type { Socket } from "bun";
import { classifyError } from "./errors.ts";
import { keepOutOfFtl } from "./jit.ts";
import { MALFORMED, NEED_MORE, ResponseParser } from "./parser.ts";
import { buildRequest } from "./request.ts";
import { CONNECT, type Driver, EXCEPTION, RECEIVE, type Run } from "./run.ts";

interface Conn {
  slot: HttpSlot;
  dead: boolean;
  /** https: the handshake is done (the request goes out then, as ab writes after it). */
  secured: boolean;
  served: number; // responses on this connection: a kept-alive socket closed before any byte is retried
}

class HttpSlot {
  readonly i: number;
  readonly parser: ResponseParser;
  conn: Conn | null = null;
  sock: Socket<Conn> | null = null;
  busy = false;
  tStart = 0;
  tConnect = 0;
  tEndWrite = 0;
  tBeginRead = 0;
  read = 0;
  woff = 0; // bytes of the request written so far, when a write was partial

  constructor(i: number, parser: ResponseParser) {
    this.i = i;
    this.parser = parser;
  }
}

const noop = () => {};

export class HttpDriver implements Driver {
  private readonly run: Run;
  private readonly slots: HttpSlot[] = [];
  private readonly req: Uint8Array;
  private readonly keepAlive: boolean;
  private readonly named: boolean;
  private readonly handlers;
  /** The completion time of the request that just ended: the next one on the slot starts then. */
  private handoff = 0;

  constructor(run: Run) {
    this.run = run;
    const o = run.opts;
    this.req = buildRequest(o, run.target);
    this.keepAlive = o.keepAlive;
    this.named = !!(o.serverHeader || o.serverFromBody);
    const cfg = {
      head: (o.method ?? "GET").toUpperCase() === "HEAD",
      nameHeader: o.serverHeader ? new TextEncoder().encode(o.serverHeader.toLowerCase()) : null,
      nameFromBody: !!o.serverFromBody,
    };
    const n = Math.min(o.concurrency, o.requests);
    for (let i = 0; i < n; i++) this.slots.push(new HttpSlot(i, new ResponseParser(cfg)));
    this.handlers = this.makeHandlers();
  }

  init(): Promise<string | null> {
    return Promise.resolve(null);
  }

  launch(i: number): void {
    const s = this.slots[i];
    s.busy = true;
    s.read = 0;
    s.woff = 0;
    s.parser.reset();
    const now = this.handoff > 0 ? this.handoff : performance.now();
    s.tStart = now;
    if (s.sock !== null) {
      s.tConnect = now; // ab: a kept-alive request has no connect time
      this.write(s);
      return;
    }
    const conn: Conn = { slot: s, dead: false, secured: false, served: 0 };
    s.conn = conn;
    const t = this.run.target;
    Bun.connect<Conn>({
      hostname: t.host,
      port: t.port,
      socket: this.handlers,
      data: conn,
      // ab does not verify the server's certificate either.
      ...(t.tls
        ? { tls: { rejectUnauthorized: false, ...(t.serverName ? { serverName: t.serverName } : {}) } }
        : {}),
    }).catch(noop);
  }

  private makeHandlers() {
    return {
      open: (sock: Socket<Conn>) => this.onOpen(sock),
      handshake: (sock: Socket<Conn>, ok: boolean) => this.onHandshake(sock, ok),
      data: (sock: Socket<Conn>, b: Buffer) => this.onData(sock, b),
      drain: (sock: Socket<Conn>) => {
        const c = sock.data;
        if (!c.dead && c.slot.busy && c.slot.woff > 0) this.write(c.slot);
      },
      close: (sock: Socket<Conn>, err?: Error) => this.onClose(sock, err),
      connectError: (sock: Socket<Conn>, err: Error) => {
        const c = sock.data;
        if (c.dead) return;
        c.dead = true;
        c.slot.conn = null;
        this.fail(c.slot, CONNECT, classifyError(err, "connect"));
      },
      error: noop,
    };
  }

  private onOpen(sock: Socket<Conn>): void {
    const c = sock.data;
    if (c.dead) {
      sock.terminate();
      return;
    }
    const s = c.slot;
    s.sock = sock;
    if (this.run.target.tls) return; // the request waits for the handshake
    s.tConnect = performance.now();
    this.write(s);
  }

  /**
   * https: ab's connect time includes the handshake; its first one names the protocol. Bun's
   * `success` is also false for a certificate ab would not check either (self-signed, another
   * name); the handshake failed only when no cipher was agreed (a plain-HTTP server, an alert).
   */
  private onHandshake(sock: Socket<Conn>, ok: boolean): void {
    const c = sock.data;
    if (c.dead) return;
    if (!ok && !(sock.getCipher?.() as { name?: string | null } | undefined)?.name) {
      this.tlsFailed(c);
      return;
    }
    c.secured = true;
    if (this.run.tlsProtocol === "") this.run.tlsProtocol = tlsProtocol(sock);
    c.slot.tConnect = performance.now();
    this.write(c.slot);
  }

  private tlsFailed(c: Conn): void {
    c.dead = true;
    c.slot.sock?.terminate();
    c.slot.sock = null;
    c.slot.conn = null;
    this.fail(c.slot, CONNECT, "tls handshake");
  }

  private write(s: HttpSlot): void {
    const req = this.req;
    const first = s.woff === 0;
    const want = req.length - s.woff;
    const w = s.sock!.write(req, s.woff, want);
    if (w < 0) {
      this.run.writeErrors++;
      this.fail(s, EXCEPTION, "write");
      return;
    }
    this.run.totalSent += w;
    if (w < want) {
      s.woff += w; // the rest goes out on drain
      return;
    }
    // The write is one synchronous send(): its end is the start of the request (kept-alive)
    // or of the connection, to within the syscall's few µs; ab's ms figures cannot see them,
    // and a clock read per request is saved.
    s.tEndWrite = first ? s.tConnect : performance.now();
  }

  private onData(sock: Socket<Conn>, b: Buffer): void {
    const c = sock.data;
    if (c.dead) return;
    this.run.totalRead += b.length;
    const s = c.slot;
    if (!s.busy) return; // bytes nobody asked for on an idle kept-alive socket
    const now = performance.now();
    if (s.read === 0) s.tBeginRead = now;
    s.read += b.length;
    const r = s.parser.feed(b, 0, b.length);
    if (r === NEED_MORE) return;
    if (r === MALFORMED) this.fail(s, EXCEPTION, "malformed");
    else this.complete(s, true, now);
  }

  private onClose(sock: Socket<Conn>, err?: Error): void {
    const c = sock.data;
    if (c.dead) return;
    if (this.run.target.tls && !c.secured) {
      this.tlsFailed(c); // closed during the handshake (a plain-HTTP server, a TLS alert)
      return;
    }
    c.dead = true;
    const s = c.slot;
    s.sock = null;
    s.conn = null;
    if (!s.busy) return; // the server closed an idle kept-alive connection
    if (err === undefined && s.parser.closeDelimited) this.complete(s, false, performance.now());
    else if (s.read === 0 && c.served > 0) {
      // ab: the server closed a kept-alive connection before answering; not a request.
      this.run.started--;
      s.busy = false;
      this.run.next(s.i);
    } else {
      const kind = err ? classifyError(err, "receive") : s.read ? "truncated" : "closed";
      this.fail(s, RECEIVE, kind);
    }
  }

  private complete(s: HttpSlot, open: boolean, tDone: number): void {
    const run = this.run;
    const p = s.parser;
    if (s.woff > 0) s.tEndWrite = tDone; // answered before the request was all written
    const reuse = open && this.keepAlive && p.keepAlive;
    run.answered(p, this.keepAlive, this.named, s, tDone);
    s.busy = false;
    const c = s.conn;
    if (c !== null) {
      c.served++;
      if (!reuse) this.drop(s);
    }
    this.handoff = tDone;
    run.next(s.i);
    this.handoff = 0;
  }

  private fail(s: HttpSlot, category: number, kind: string): void {
    s.busy = false;
    this.drop(s);
    this.run.fail(category, kind);
    this.run.next(s.i);
  }

  /** Forget the slot's connection; closing it from our side with a FIN, as ab (ffi-driver.ts). */
  private drop(s: HttpSlot): void {
    const c = s.conn;
    if (c !== null) c.dead = true;
    const sock = s.sock;
    s.conn = null;
    s.sock = null;
    if (sock !== null) sock.end();
  }

  expire(cutoff: number): void {
    for (const s of this.slots) if (s.busy && s.tStart < cutoff) this.fail(s, EXCEPTION, "timeout");
  }

  closeAll(): void {
    for (const s of this.slots) {
      s.busy = false;
      const c = s.conn;
      if (c !== null) c.dead = true;
      s.sock?.terminate();
      s.sock = null;
      s.conn = null;
    }
  }
}

keepOutOfFtl(HttpDriver);

/**
 * ab's "SSL/TLS Protocol" value: version, OpenSSL's cipher name, the server key's bits and the
 * cipher's secret bits (which Bun does not report, so they come from the cipher's name).
 */
function tlsProtocol(sock: Socket<Conn>): string {
  const cipher = sock.getCipher?.() as { name?: string; version?: string } | undefined;
  const cert = sock.getPeerCertificate?.() as { bits?: number } | undefined;
  const name = cipher?.name ?? "";
  const bits = /AES_?256|CHACHA20/.test(name)
    ? 256
    : /AES_?128/.test(name)
      ? 128
      : /3DES|DES-CBC3/.test(name)
        ? 112
        : 0;
  return `${sock.getTLSVersion?.() ?? cipher?.version ?? ""},${name},${cert?.bits ?? 0},${bits}`;
}
