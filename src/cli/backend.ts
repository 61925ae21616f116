/**
 * `uvs backend --port N --name NAME [--host ADDR] [--log FILE]`: a tiny HTTP real server that
 * answers every request with its name (body, and X-Backend / X-Real-Server headers), like the seeds'
 * test real servers. With --log it appends one line per request naming the client's address, so a
 * lab can prove which address the real server saw (DR/TUN/NAT keep the client's).
 */
import { closeSync, openSync, writeSync } from "node:fs";
import type { Socket, TCPSocketListener } from "bun";

export const BACKEND_USAGE = "usage: uvs backend --port N --name NAME [--host ADDR] [--log FILE]\n";

export interface BackendOptions {
  host: string;
  port: number;
  name: string;
  /** Append `<iso time> <client addr> <client port> <method> <path>` per request. */
  log?: string;
}

export function parseBackendArgs(args: string[]): BackendOptions | string {
  const o: Partial<BackendOptions> = { host: "127.0.0.1" };
  for (let i = 0; i < args.length; i++) {
    const [k, inline] = args[i].split("=", 2) as [string, string | undefined];
    const v = inline ?? args[++i];
    if (v === undefined) return `uvs backend: ${k} needs a value\n${BACKEND_USAGE}`;
    if (k === "--port") {
      if (!/^\d+$/.test(v) || Number(v) > 65535)
        return `uvs backend: --port: ${JSON.stringify(v)} is not a port\n`;
      o.port = Number(v);
    } else if (k === "--name") o.name = v;
    else if (k === "--host") o.host = v;
    else if (k === "--log") o.log = v;
    else return `uvs backend: unknown option ${JSON.stringify(k)}\n${BACKEND_USAGE}`;
  }
  if (o.port === undefined || !o.name) return `uvs backend: --port and --name are required\n${BACKEND_USAGE}`;
  return o as BackendOptions;
}

/** One log line: when, who (as the socket saw it), what. */
export function backendLogLine(
  client: { address: string; port: number } | null,
  method: string,
  path: string,
): string {
  return `${new Date().toISOString()} ${client?.address ?? "-"} ${client?.port ?? "-"} ${method} ${path}\n`;
}

function openLog(path: string): number {
  try {
    return openSync(path, "a");
  } catch (e) {
    throw new Error(`cannot open the log file ${path}: ${(e as Error).message}`);
  }
}

export interface BackendServer {
  port: number;
  stop(): void;
}

/** The longest request head read before answering 400 (nginx's large header buffers: 4 × 8 KiB). */
const MAX_HEAD = 32 * 1024;

interface Conn {
  buf: string;
  /** Body bytes of the current request still to skip. */
  skip: number;
}

/** One parsed request head, or why it is not one. */
function parseHead(head: string): { method: string; path: string; keep: boolean; length: number } | null {
  const lines = head.split(/\r?\n/);
  const m = /^([A-Z]+) (\S+) HTTP\/1\.([01])$/.exec(lines[0]);
  if (!m) return null;
  let conn = "";
  let length = 0;
  for (const l of lines.slice(1)) {
    const c = l.indexOf(":");
    if (c <= 0) continue;
    const name = l.slice(0, c).trim().toLowerCase();
    const value = l.slice(c + 1).trim();
    if (name === "connection") conn = value.toLowerCase();
    else if (name === "content-length") {
      if (!/^\d{1,12}$/.test(value)) return null;
      length = Number(value);
    } else if (name === "transfer-encoding") return null; // chunked uploads: not for this server
  }
  // HTTP/1.1 persists unless told to close; 1.0 only when asked (and then says so), as nginx.
  const keep = m[3] === "1" ? !/\bclose\b/.test(conn) : /\bkeep-alive\b/.test(conn);
  return { method: m[1], path: m[2].split("?")[0], keep, length };
}

/**
 * The server: plain HTTP/1.x on Bun.listen, so it keeps HTTP/1.0 connections alive when asked,
 * as nginx does (Bun.serve closes them after each answer, so `ab -k` and `uvs bench -k` through
 * the demo made a connection per request).
 */
export function startBackend(o: BackendOptions): BackendServer {
  const body = `${o.name}\n`;
  const fixed = `Content-Type: text/plain\r\nX-Backend: ${o.name}\r\nX-Real-Server: ${o.name}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  // One fd for the server's life; a line per write is atomic for O_APPEND, so readers never see halves.
  const logFd = o.log === undefined ? undefined : openLog(o.log);
  const answer = (s: Socket<Conn>, head: string): boolean => {
    const r = parseHead(head);
    if (r === null) {
      s.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return false;
    }
    if (logFd !== undefined)
      writeSync(logFd, backendLogLine({ address: s.remoteAddress, port: s.remotePort }, r.method, r.path));
    const out = `HTTP/1.1 200 OK\r\nDate: ${new Date().toUTCString()}\r\n${fixed}Connection: ${r.keep ? "keep-alive" : "close"}\r\n\r\n${r.method === "HEAD" ? "" : body}`;
    s.data.skip = r.length;
    if (r.keep) s.write(out);
    else s.end(out);
    return r.keep;
  };
  let server: TCPSocketListener<Conn>;
  try {
    server = Bun.listen<Conn>({
      hostname: o.host,
      port: o.port,
      socket: {
        open: (s) => {
          s.data = { buf: "", skip: 0 };
        },
        data: (s, chunk) => {
          let text = s.data.buf + chunk.toString("latin1");
          for (;;) {
            if (s.data.skip > 0) {
              const n = Math.min(s.data.skip, text.length);
              s.data.skip -= n;
              text = text.slice(n);
              if (s.data.skip > 0) break;
            }
            const end = text.indexOf("\r\n\r\n");
            if (end < 0) {
              if (text.length > MAX_HEAD) answer(s, ""); // 400 and close
              break;
            }
            const head = text.slice(0, end);
            text = text.slice(end + 4);
            if (!answer(s, head)) {
              text = "";
              break;
            }
          }
          s.data.buf = text;
        },
        error: () => {},
      },
    });
  } catch (e) {
    if (logFd !== undefined) closeSync(logFd);
    throw new Error(`cannot listen on ${o.host}:${o.port}: ${(e as Error).message}`);
  }
  return {
    port: server.port,
    stop: () => {
      server.stop(true);
      if (logFd !== undefined) closeSync(logFd);
    },
  };
}

export async function runBackend(args: string[]): Promise<number> {
  const o = parseBackendArgs(args);
  if (typeof o === "string") {
    process.stderr.write(o);
    return 2;
  }
  try {
    const server = startBackend(o);
    process.stdout.write(`uvs backend ${o.name} listening on ${o.host}:${server.port}\n`);
  } catch (e) {
    process.stderr.write(`uvs backend: ${(e as Error).message}\n`);
    return 1;
  }
  await new Promise(() => {}); // serve until killed
  return 0;
}
