import { describe, expect, test } from "bun:test";
import { MALFORMED, NEED_MORE, ResponseParser } from "../../src/bench/parser.ts";

const enc = new TextEncoder();
const cfg = { head: false, nameHeader: null, nameFromBody: false };

/** Feed the response in pieces of `step` bytes; returns the result of the last feed. */
function feedIn(p: ResponseParser, text: string, step: number): number {
  const b = enc.encode(text);
  let r = NEED_MORE;
  for (let i = 0; i < b.length && r === NEED_MORE; i += step) {
    const piece = b.slice(i, Math.min(b.length, i + step));
    r = p.feed(piece, 0, piece.length);
    if (r >= 0) return i + r;
  }
  return r;
}

describe("response parser", () => {
  const cl = "HTTP/1.1 200 OK\r\nServer: x/1\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello";
  const chunked =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n";

  for (const step of [1, 2, 3, 7, 1000]) {
    test(`Content-Length body, fed ${step} bytes at a time`, () => {
      const p = new ResponseParser(cfg);
      expect(feedIn(p, cl, step)).toBe(cl.length);
      expect([p.status, p.bodyBytes, p.keepAlive, p.serverSoftware]).toEqual([200, 5, true, "x/1"]);
    });
    test(`chunked body with extensions and trailers, fed ${step} bytes at a time`, () => {
      const p = new ResponseParser(cfg);
      expect(feedIn(p, chunked, step)).toBe(chunked.length);
      expect(p.keepAlive).toBe(true);
      expect(p.bodyBytes).toBe(chunked.length - chunked.indexOf("\r\n\r\n") - 4); // wire bytes, as ab counts
    });
  }

  test("kept alive only when the server says keep-alive (the request is HTTP/1.0), as ab", () => {
    const p = new ResponseParser(cfg);
    p.feed(enc.encode("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"), 0, 38);
    expect(p.keepAlive).toBe(false);
    p.reset();
    const ka = enc.encode("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
    expect(p.feed(ka, 0, ka.length)).toBe(ka.length);
    expect(p.keepAlive).toBe(true);
    p.reset();
    const cl11 = enc.encode("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    p.feed(cl11, 0, cl11.length);
    expect(p.keepAlive).toBe(false);
    // An HTTP/1.1 answer that says nothing: Bun.serve, for one, closes such a connection, and ab
    // does not count it as kept alive.
    p.reset();
    const plain11 = enc.encode("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    expect(p.feed(plain11, 0, plain11.length)).toBe(plain11.length);
    expect(p.keepAlive).toBe(false);
  });

  test("a body without framing ends at close and is never kept alive", () => {
    const p = new ResponseParser(cfg);
    const b = enc.encode("HTTP/1.1 200 OK\r\n\r\nsome bytes");
    expect(p.feed(b, 0, b.length)).toBe(NEED_MORE);
    expect(p.closeDelimited).toBe(true);
    expect(p.keepAlive).toBe(false);
    expect(p.bodyBytes).toBe(10);
  });

  test("HEAD, 204 and 304 have no body whatever Content-Length says", () => {
    const head = new ResponseParser({ ...cfg, head: true });
    const b = enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
    expect(head.feed(b, 0, b.length)).toBe(b.length);
    const p = new ResponseParser(cfg);
    const n = enc.encode("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n");
    expect(p.feed(n, 0, n.length)).toBe(n.length);
  });

  test("garbage, a bad status line and a bad Content-Length are malformed", () => {
    for (const t of [
      "SSH-2.0-OpenSSH\r\n\r\n",
      "HTTP/1.1 2x0 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
    ]) {
      const p = new ResponseParser(cfg);
      expect(feedIn(p, t, 1000)).toBe(MALFORMED);
    }
  });

  test("a head larger than 16 KiB is malformed, not buffered forever", () => {
    const p = new ResponseParser(cfg);
    const big = `HTTP/1.1 200 OK\r\nX: ${"a".repeat(20000)}`;
    expect(feedIn(p, big, 4096)).toBe(MALFORMED);
  });

  test("the real server's name comes from the named header or the body's first line", () => {
    const h = new ResponseParser({ ...cfg, nameHeader: enc.encode("x-backend") });
    const b = enc.encode("HTTP/1.1 200 OK\r\nX-Backend:  rs-2 \r\nContent-Length: 5\r\n\r\nrs-9\n");
    h.feed(b, 0, b.length);
    expect(new TextDecoder().decode(h.name.subarray(0, h.nameLen))).toBe("rs-2");
    const body = new ResponseParser({ ...cfg, nameFromBody: true });
    body.feed(b, 0, b.length);
    expect(new TextDecoder().decode(body.name.subarray(0, body.nameLen))).toBe("rs-9");
  });
});
