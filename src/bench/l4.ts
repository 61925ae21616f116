/**
 * L4 modes, DPVS's two standard tests:
 *  - tcp-connect ("CPS"): each request is a new TCP connection. Without a payload it is done
 *    when the connection is established; with --payload N it sends N bytes and is done at the
 *    first reply byte or the server's orderly close. Then the client closes.
 *  - udp ("PPS"): each request is one datagram that must be answered. Every slot has its own
 *    connected UDP socket, so a reply belongs to the slot that owns the socket; a sequence
 *    number in the first 4 bytes drops late replies to requests that already timed out.
 */
import type { Socket } from "bun";
import { classifyError } from "./errors.ts";
import { CONNECT, type Driver, EXCEPTION, RECEIVE, type Run } from "./run.ts";

interface TcpConn {
  slot: TcpSlot;
  dead: boolean;
}

interface TcpSlot {
  i: number;
  conn: TcpConn | null;
  sock: Socket<TcpConn> | null;
  busy: boolean;
  tStart: number;
  tConnect: number;
  tEndWrite: number;
}

const noop = () => {};

export class TcpConnectDriver implements Driver {
  private readonly run: Run;
  private readonly slots: TcpSlot[] = [];
  private readonly payload: Uint8Array;
  private readonly handlers;

  constructor(run: Run) {
    this.run = run;
    this.payload = new Uint8Array(run.opts.payloadBytes ?? 0).fill(120);
    const n = Math.min(run.opts.concurrency, run.opts.requests);
    for (let i = 0; i < n; i++)
      this.slots.push({ i, conn: null, sock: null, busy: false, tStart: 0, tConnect: 0, tEndWrite: 0 });
    this.handlers = {
      open: (sock: Socket<TcpConn>) => this.onOpen(sock),
      data: (sock: Socket<TcpConn>, b: Buffer) => {
        const c = sock.data;
        if (c.dead) return;
        this.run.totalRead += b.length;
        this.done(c.slot, performance.now());
      },
      close: (sock: Socket<TcpConn>, err?: Error) => {
        const c = sock.data;
        if (c.dead) return;
        if (err) this.fail(c.slot, RECEIVE, classifyError(err, "receive"));
        else this.done(c.slot, performance.now()); // closed after our payload, without a reply
      },
      connectError: (sock: Socket<TcpConn>, err: Error) => {
        const c = sock.data;
        if (!c.dead) this.fail(c.slot, CONNECT, classifyError(err, "connect"));
      },
      error: noop,
    };
  }

  init(): Promise<string | null> {
    return Promise.resolve(null);
  }

  launch(i: number): void {
    const s = this.slots[i];
    s.busy = true;
    s.tStart = performance.now();
    const conn: TcpConn = { slot: s, dead: false };
    s.conn = conn;
    const t = this.run.target;
    Bun.connect<TcpConn>({ hostname: t.host, port: t.port, socket: this.handlers, data: conn }).catch(noop);
  }

  private onOpen(sock: Socket<TcpConn>): void {
    const c = sock.data;
    if (c.dead) {
      sock.terminate();
      return;
    }
    const s = c.slot;
    s.sock = sock;
    const now = performance.now();
    s.tConnect = now;
    s.tEndWrite = now;
    if (this.payload.length === 0) {
      this.done(s, now);
      return;
    }
    const w = sock.write(this.payload);
    if (w < 0) {
      this.run.writeErrors++;
      this.fail(s, EXCEPTION, "write");
      return;
    }
    this.run.totalSent += w;
    s.tEndWrite = performance.now();
  }

  private done(s: TcpSlot, now: number): void {
    this.release(s);
    this.run.ok(s.tStart, s.tConnect, s.tEndWrite, now, now);
    this.run.next(s.i);
  }

  private fail(s: TcpSlot, category: number, kind: string): void {
    this.release(s);
    this.run.fail(category, kind);
    this.run.next(s.i);
  }

  private release(s: TcpSlot): void {
    s.busy = false;
    if (s.conn !== null) s.conn.dead = true;
    s.sock?.end();
    s.sock = null;
    s.conn = null;
  }

  expire(cutoff: number): void {
    for (const s of this.slots) if (s.busy && s.tStart < cutoff) this.fail(s, EXCEPTION, "timeout");
  }

  closeAll(): void {
    for (const s of this.slots) {
      s.busy = false;
      if (s.conn !== null) s.conn.dead = true;
      s.sock?.terminate();
      s.sock = null;
      s.conn = null;
    }
  }
}

interface UdpSlot {
  i: number;
  sock: Bun.udp.ConnectedSocket<"uint8array"> | null;
  busy: boolean;
  seq: number;
  tStart: number;
  tEndWrite: number;
  buf: Uint8Array; // this slot's datagram; bytes 0..3 carry the sequence number
}

export const UDP_DEFAULT_PAYLOAD = 64;

export class UdpDriver implements Driver {
  private readonly run: Run;
  private readonly slots: UdpSlot[] = [];

  constructor(run: Run) {
    this.run = run;
    const size = run.opts.payloadBytes ?? UDP_DEFAULT_PAYLOAD;
    const n = Math.min(run.opts.concurrency, run.opts.requests);
    for (let i = 0; i < n; i++)
      this.slots.push({
        i,
        sock: null,
        busy: false,
        seq: 0,
        tStart: 0,
        tEndWrite: 0,
        buf: new Uint8Array(size).fill(120),
      });
  }

  async init(): Promise<string | null> {
    const t = this.run.target;
    try {
      for (const s of this.slots) {
        s.sock = await Bun.udpSocket({
          binaryType: "uint8array",
          connect: { hostname: t.host, port: t.port },
          socket: {
            data: (_sock, b) => this.onReply(s, b),
            error: (_sock, err) => {
              if (s.busy) this.fail(s, CONNECT, classifyError(err, "connect"));
            },
          },
        });
      }
    } catch (e) {
      this.closeAll();
      return `cannot open UDP sockets to ${t.host}:${t.port}: ${(e as Error).message}`;
    }
    return null;
  }

  launch(i: number): void {
    const s = this.slots[i];
    s.busy = true;
    s.seq = (s.seq + 1) >>> 0;
    const seq = s.seq;
    const b = s.buf;
    if (b.length >= 4) {
      b[0] = seq >>> 24;
      b[1] = (seq >>> 16) & 255;
      b[2] = (seq >>> 8) & 255;
      b[3] = seq & 255;
    }
    s.tStart = performance.now();
    let sent = false;
    try {
      sent = s.sock!.send(b);
    } catch {
      sent = false;
    }
    if (!sent) {
      this.run.writeErrors++;
      this.fail(s, EXCEPTION, "write");
      return;
    }
    this.run.totalSent += b.length;
    s.tEndWrite = performance.now();
  }

  private onReply(s: UdpSlot, b: Uint8Array): void {
    this.run.totalRead += b.length;
    if (!s.busy) return; // a late reply to a request that timed out
    if (s.buf.length >= 4 && b.length >= 4) {
      const seq = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
      if (seq !== s.seq) return;
    }
    const now = performance.now();
    s.busy = false;
    this.run.htmlRead += b.length;
    this.run.ok(s.tStart, s.tStart, s.tEndWrite, now, now);
    this.run.next(s.i);
  }

  private fail(s: UdpSlot, category: number, kind: string): void {
    s.busy = false;
    this.run.fail(category, kind);
    this.run.next(s.i);
  }

  expire(cutoff: number): void {
    for (const s of this.slots) if (s.busy && s.tStart < cutoff) this.fail(s, RECEIVE, "lost"); // no reply within -s: the datagram or its answer was lost
  }

  closeAll(): void {
    for (const s of this.slots) {
      s.busy = false;
      s.sock?.close();
      s.sock = null;
    }
  }
}
