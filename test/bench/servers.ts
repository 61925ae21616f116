/**
 * Raw HTTP/1.x servers on 127.0.0.1 for the bench tests, on Bun.listen so every byte of the
 * answer is under the test's control (framing, keep-alive, resets, silence, garbage).
 */
import type { Socket, TCPSocketListener } from "bun";

export interface SeenRequest {
  head: string;
  body: Uint8Array;
}

export interface RawServer {
  port: number;
  url(path?: string): string;
  connections: number;
  requests: SeenRequest[];
  stop(): void;
}

/**
 * What to do with a request: bytes to send, and whether to close (or reset) afterwards. `later`:
 * more bytes, each written `gapMs` (default 2) after the one before, so that they arrive apart.
 */
export type Answer =
  | { bytes: string | Uint8Array; later?: (string | Uint8Array)[]; gapMs?: number; close?: boolean | "reset" }
  | "silent"
  | "reset";

/** Write `parts` one by one, `gapMs` apart, then close or reset as asked. */
function writeApart(
  s: Socket<ConnState>,
  parts: (string | Uint8Array)[],
  gapMs: number,
  close?: boolean | "reset",
) {
  const [first, ...rest] = parts;
  if (first === undefined) {
    if (close === "reset") s.terminate();
    else if (close) s.end();
    return;
  }
  setTimeout(() => {
    s.write(first);
    writeApart(s, rest, gapMs, close);
  }, gapMs);
}

interface ConnState {
  buf: Uint8Array;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const o = new Uint8Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
}

/** One complete request at the front of buf: [head, body, total length], or null. */
function takeRequest(buf: Uint8Array): [string, Uint8Array, number] | null {
  const text = Buffer.from(buf).toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const head = text.slice(0, end);
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const len = m ? Number(m[1]) : 0;
  if (buf.length < end + 4 + len) return null;
  return [head, buf.slice(end + 4, end + 4 + len), end + 4 + len];
}

export function rawServer(answer: (req: SeenRequest, index: number) => Answer): RawServer {
  const state: RawServer = {
    port: 0,
    url: (p = "/") => `http://127.0.0.1:${state.port}${p}`,
    connections: 0,
    requests: [],
    stop: () => listener.stop(true),
  };
  const listener: TCPSocketListener<ConnState> = Bun.listen<ConnState>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        state.connections++;
        s.data = { buf: new Uint8Array(0) };
      },
      data(s: Socket<ConnState>, chunk) {
        s.data.buf = concat(s.data.buf, chunk);
        for (let r = takeRequest(s.data.buf); r; r = takeRequest(s.data.buf)) {
          s.data.buf = s.data.buf.slice(r[2]);
          const req = { head: r[0], body: r[1] };
          const a = answer(req, state.requests.length);
          state.requests.push(req);
          if (a === "silent") continue;
          if (a === "reset") {
            s.terminate();
            return;
          }
          s.write(a.bytes);
          if (a.later !== undefined) {
            writeApart(s, a.later, a.gapMs ?? 2, a.close);
            if (a.close) return;
            continue;
          }
          if (a.close === "reset") {
            s.terminate();
            return;
          }
          if (a.close) {
            s.end();
            return;
          }
        }
      },
    },
  });
  state.port = listener.port;
  return state;
}

/** A fixed response with Content-Length; keep-alive when the request asked for it (HTTP/1.0 rules). */
export function okAnswer(body: string, extra = "", status = "200 OK") {
  return (req: SeenRequest): Answer => {
    const ka = /\r\nconnection:\s*keep-alive/i.test(req.head);
    const head = `HTTP/1.1 ${status}\r\nServer: rawtest/1.0\r\nContent-Length: ${body.length}\r\n${extra}${ka ? "Connection: keep-alive\r\n" : "Connection: close\r\n"}\r\n`;
    return { bytes: head + body, close: !ka };
  };
}
