import { afterEach, describe, expect, test } from "bun:test";
import { type BenchOptions, type BenchProgress, startBench } from "../../src/bench/api.ts";
import { okAnswer, type RawServer, rawServer } from "./servers.ts";

let servers: RawServer[] = [];
afterEach(() => {
  for (const s of servers) s.stop();
  servers = [];
});
function serve(...a: Parameters<typeof rawServer>): RawServer {
  const s = rawServer(...a);
  servers.push(s);
  return s;
}
const run = (o: BenchOptions, onProgress?: (p: BenchProgress) => void) => startBench(o, onProgress).result;

describe("uvs bench HTTP driver against a local server", () => {
  test("counts are exact without keep-alive: n requests, n connections, every byte counted", async () => {
    const s = serve(okAnswer("hello"));
    const r = await run({ url: s.url("/x"), requests: 200, concurrency: 7, keepAlive: false });
    expect([r.complete, r.failed, r.non2xx, r.keepAliveRequests]).toEqual([200, 0, 0, 0]);
    expect(s.requests.length).toBe(200);
    expect(s.connections).toBe(200);
    expect(r.docLength).toBe(5);
    expect(r.htmlRead).toBe(1000);
    const one = okAnswer("hello")(s.requests[0]);
    expect(r.totalRead).toBe(200 * (one as { bytes: string }).bytes.length);
    expect(r.samples.count).toBe(200);
    expect(r.serverSoftware).toBe("rawtest/1.0");
    expect(s.requests[0].head).toStartWith("GET /x HTTP/1.0\r\n");
  });

  test("keep-alive is honoured: one connection per slot, every request counted as kept alive", async () => {
    const s = serve(okAnswer("hello"));
    const r = await run({ url: s.url(), requests: 300, concurrency: 4, keepAlive: true });
    expect([r.complete, r.failed, r.keepAliveRequests]).toEqual([300, 0, 300]);
    expect(s.connections).toBe(4);
    expect(s.requests[0].head).toContain("\r\nConnection: Keep-Alive\r\n");
  });

  test("a server that refuses keep-alive gets a new connection per request", async () => {
    const s = serve(() => ({ bytes: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", close: true }));
    const r = await run({ url: s.url(), requests: 50, concurrency: 2, keepAlive: true });
    expect([r.complete, r.failed, r.keepAliveRequests]).toEqual([50, 0, 0]);
    expect(s.connections).toBe(50);
  });

  test("non-2xx responses and length mismatches are counted as ab counts them", async () => {
    const s = serve((req, i) =>
      okAnswer(i % 4 === 3 ? "longer body" : "hello", "", i % 2 ? "404 Not Found" : "200 OK")(req),
    );
    const r = await run({ url: s.url(), requests: 40, concurrency: 1, keepAlive: true });
    expect(r.complete).toBe(40);
    expect(r.non2xx).toBe(20);
    expect([r.failed, r.errLength]).toEqual([10, 10]);
    const v = await run({
      url: s.url(),
      requests: 40,
      concurrency: 1,
      keepAlive: true,
      variableLength: true,
    });
    expect(v.failed).toBe(0);
  });

  test("POST bodies are sent with their length and type", async () => {
    const s = serve(okAnswer("ok"));
    const body = new TextEncoder().encode("a=1&b=2&payload=" + "x".repeat(3000));
    const r = await run({
      url: s.url("/post"),
      requests: 20,
      concurrency: 3,
      keepAlive: true,
      body,
      contentType: "application/x-www-form-urlencoded",
    });
    expect(r.failed).toBe(0);
    expect(s.requests.length).toBe(20);
    for (const q of s.requests) {
      expect(q.head).toStartWith("POST /post HTTP/1.0\r\n");
      expect(q.head).toContain("\r\nContent-length: 3016\r\nContent-type: application/x-www-form-urlencoded");
      expect(Buffer.from(q.body).equals(Buffer.from(body))).toBe(true);
    }
    expect(r.bodySent).toBe(true);
    expect(r.totalSent).toBeGreaterThan(20 * 3016);
  });

  test("timeouts fire: a silent server costs one Exceptions failure per request, within the time given", async () => {
    const s = serve(() => "silent");
    const t0 = performance.now();
    const r = await run({ url: s.url(), requests: 4, concurrency: 2, keepAlive: false, timeoutS: 0.3 });
    const ms = performance.now() - t0;
    expect([r.complete, r.failed, r.errExceptions]).toEqual([4, 4, 4]);
    expect(r.errorsByKind).toEqual({ timeout: 4 });
    expect(ms).toBeGreaterThan(550);
    expect(ms).toBeLessThan(2000);
  });

  test("refused connections are Connect failures and the run still ends", async () => {
    const s = serve(okAnswer("x"));
    const port = s.port;
    s.stop();
    const r = await run({ url: `http://127.0.0.1:${port}/`, requests: 30, concurrency: 3, keepAlive: false });
    expect([r.complete, r.failed, r.errConnect]).toEqual([30, 30, 30]);
    expect(r.errorsByKind).toEqual({ refused: 30 });
  });

  test("resets are Receive failures; garbage is a malformed Exceptions failure", async () => {
    const reset = serve(() => "reset");
    const r = await run({ url: reset.url(), requests: 10, concurrency: 2, keepAlive: false });
    expect([r.complete, r.failed, r.errReceive]).toEqual([10, 10, 10]);
    const junk = serve(() => ({ bytes: "SSH-2.0-nope\r\n\r\n", close: true }));
    const j = await run({ url: junk.url(), requests: 10, concurrency: 2, keepAlive: false });
    expect([j.failed, j.errExceptions, j.errorsByKind.malformed]).toEqual([10, 10, 10]);
  });

  test("chunked and close-delimited bodies are read to their end", async () => {
    const chunked = serve(() => ({
      bytes:
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    }));
    const c = await run({ url: chunked.url(), requests: 30, concurrency: 3, keepAlive: true });
    expect([c.complete, c.failed, c.keepAliveRequests]).toEqual([30, 0, 30]);
    expect(chunked.connections).toBe(3);
    const closing = serve(() => ({ bytes: "HTTP/1.0 200 OK\r\n\r\nuntil close", close: true }));
    const d = await run({ url: closing.url(), requests: 30, concurrency: 3, keepAlive: true });
    expect([d.complete, d.failed, d.docLength, d.htmlRead]).toEqual([30, 0, 11, 330]);
  });

  test("responses are spread over the real servers that name themselves", async () => {
    const s = serve((req, i) => okAnswer(`rs-${i % 3}\n`, `X-Backend: rs-${i % 3}\r\n`)(req));
    const r = await run({
      url: s.url(),
      requests: 90,
      concurrency: 1,
      keepAlive: true,
      serverHeader: "x-backend",
    });
    expect(r.servers).toEqual([
      { name: "rs-0", count: 30 },
      { name: "rs-1", count: 30 },
      { name: "rs-2", count: 30 },
    ]);
    const b = await run({
      url: s.url(),
      requests: 30,
      concurrency: 1,
      keepAlive: true,
      serverFromBody: true,
    });
    expect(b.servers.map((e) => e.count)).toEqual([10, 10, 10]);
  });

  test("a time limit ends the run; progress comes at most ten times a second", async () => {
    const s = serve(okAnswer("hello"));
    const seen: number[] = [];
    const t0 = performance.now();
    const r = await run(
      { url: s.url(), requests: 10_000_000, concurrency: 2, keepAlive: true, timeLimitS: 0.6 },
      (p) => seen.push(p.done),
    );
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThan(550);
    expect(ms).toBeLessThan(1500);
    expect(r.complete).toBeGreaterThan(10);
    expect(r.interrupted).toBe(false);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.length).toBeLessThanOrEqual(8);
  });

  test("cancel() stops the run and reports what was done", async () => {
    const s = serve(okAnswer("hello"));
    const b = startBench({ url: s.url(), requests: 10_000_000, concurrency: 2, keepAlive: true });
    await Bun.sleep(200);
    b.cancel();
    const r = await b.result;
    expect(r.interrupted).toBe(true);
    expect(r.complete).toBeGreaterThan(0);
    expect(r.complete).toBe(r.samples.count);
  });

  test("bad options are refused, not run", async () => {
    await expect(
      run({ url: "http://127.0.0.1/", requests: 2, concurrency: 5, keepAlive: false }),
    ).rejects.toThrow("concurrency level greater");
    await expect(run({ url: "127.0.0.1", requests: 2, concurrency: 1, keepAlive: false })).rejects.toThrow(
      "invalid URL",
    );
  });
});
