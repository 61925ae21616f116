/**
 * A TCP (or TLS) exchange for the socket checkers: connect within a timeout, write, read with a
 * timeout per read (keepalived's HTTP_GET reads that way, issue #1822), close. Every failure is
 * a string reason, never an exception; the socket is always destroyed in `close`.
 */
import { type Socket, connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { reason } from "./result.ts";

export interface ConnectOptions {
  host: string;
  port: number;
  timeoutMs: number;
  bindto?: string | null;
  /** TLS without certificate verification (SSL_GET does not verify); `servername` is the SNI. */
  tls?: { servername: string | null };
}

export class Conversation {
  private chunks: Buffer[] = [];
  private ended = false;
  private error: string | null = null;
  private wake: (() => void) | null = null;

  private constructor(private readonly sock: Socket) {
    sock.on("data", (d: Buffer) => this.push(() => this.chunks.push(d)));
    sock.on("end", () => this.push(() => (this.ended = true)));
    sock.on("close", () => this.push(() => (this.ended = true)));
    sock.on("error", (e) => this.push(() => (this.error = reason(e))));
  }

  private push(f: () => void): void {
    f();
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Connect; a string says why it failed ("connect: connection refused", "connect: timed out …"). */
  static open(o: ConnectOptions): Promise<Conversation | string> {
    return new Promise((resolve) => {
      const base = { host: o.host, port: o.port, localAddress: o.bindto ?? undefined };
      const sock = o.tls
        ? tlsConnect({ ...base, rejectUnauthorized: false, servername: o.tls.servername ?? undefined })
        : tcpConnect(base);
      const ready = o.tls ? "secureConnect" : "connect";
      const timer = setTimeout(() => finish(`connect: timed out after ${o.timeoutMs} ms`), o.timeoutMs);
      const finish = (r: Conversation | string) => {
        clearTimeout(timer);
        sock.removeAllListeners(ready);
        sock.removeAllListeners("error");
        if (typeof r === "string") {
          sock.on("error", () => {}); // a late error after the timeout must not go unhandled
          sock.destroy();
        }
        resolve(r);
      };
      sock.once(ready, () => finish(new Conversation(sock)));
      sock.once("error", (e) => finish(`${o.tls ? "TLS connect" : "connect"}: ${reason(e)}`));
    });
  }

  write(data: string | Uint8Array): string | null {
    if (this.error) return `send: ${this.error}`;
    this.sock.write(data);
    return null;
  }

  /** Half-close (ldirectord's simpletcp sends, then shuts down its side). */
  endWrite(): void {
    this.sock.end();
  }

  /** The next bytes: a Buffer, null at EOF, or a string reason (timeout, error). */
  async read(timeoutMs: number): Promise<Buffer | null | string> {
    if (!this.chunks.length && !this.ended && !this.error) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await new Promise<boolean>((resolve) => {
        this.wake = () => resolve(false);
        timer = setTimeout(() => resolve(true), timeoutMs);
      });
      clearTimeout(timer);
      this.wake = null;
      if (timedOut) return `read: timed out after ${timeoutMs} ms`;
    }
    if (this.chunks.length) return Buffer.concat(this.chunks.splice(0));
    if (this.error) return `read: ${this.error}`;
    return null;
  }

  /** Read until `done(all bytes so far)` or EOF; a string reason on timeout or error. */
  async readUntil(
    done: (all: Buffer) => boolean,
    timeoutMs: number,
    max = 1 << 20,
  ): Promise<Buffer | string> {
    let all = Buffer.alloc(0);
    for (;;) {
      const r = await this.read(timeoutMs);
      if (typeof r === "string") return r;
      if (r === null) return all;
      all = Buffer.concat([all, r]);
      if (done(all) || all.length >= max) return all;
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Open, run `talk`, always close. */
export async function converse<T>(
  o: ConnectOptions,
  talk: (c: Conversation) => Promise<T>,
  failed: (why: string) => T,
): Promise<T> {
  const c = await Conversation.open(o);
  if (typeof c === "string") return failed(c);
  try {
    return await talk(c);
  } catch (e) {
    return failed(reason(e));
  } finally {
    c.close();
  }
}
