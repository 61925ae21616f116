/**
 * Every checker against real local servers: what passes, what fails, and that the failure says
 * what was tried and which step failed. Bad peers: a server that accepts and never answers, one
 * that sends garbage, a script that never exits.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dnsCheck } from "../../src/health/dns.ts";
import { httpCheck } from "../../src/health/http.ts";
import { miscCheck } from "../../src/health/misc.ts";
import { negotiate } from "../../src/health/negotiate.ts";
import { smtpCheck } from "../../src/health/smtp.ts";
import { tcpCheck } from "../../src/health/tcp.ts";
import { udpCheck } from "../../src/health/udp.ts";
import type { HttpSpec, UrlSpec } from "../../src/rules/health-settings.ts";
import { closedPort, dnsServer, lineServer, selfSigned, silentServer, spec } from "./helpers.ts";

const BODY = "hello keepalived\n";
const web = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    const p = new URL(req.url).pathname;
    if (p === "/health") return new Response(BODY);
    if (p === "/host") return new Response(req.headers.get("host") ?? "");
    if (p === "/sick") return new Response("sick", { status: 503 });
    return new Response("not found", { status: 404 });
  },
});
const tlsPair = selfSigned();
const secure = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  tls: tlsPair,
  fetch: () => new Response("secure ok"),
});
const dir = mkdtempSync(join(tmpdir(), "uvs-misc-"));
const stops: (() => unknown)[] = [];
afterAll(() => {
  web.stop(true);
  secure.stop(true);
  for (const s of stops) s();
  rmSync(dir, { recursive: true, force: true });
});

const url = (path: string, more: Partial<UrlSpec> = {}): UrlSpec => ({
  path,
  status: [[200, 299]],
  digest: null,
  virtualhost: null,
  regex: null,
  regexNoMatch: false,
  regexCaseless: false,
  ...more,
});
const http = (urls: UrlSpec[], more: Partial<HttpSpec> = {}): HttpSpec => ({
  urls,
  virtualhost: null,
  protocol: "1.0",
  tls: false,
  sni: null,
  fastRecovery: false,
  ...more,
});

describe("TCP_CHECK", () => {
  test("connects to a listening port", async () => {
    const r = await tcpCheck({ spec: spec("TCP_CHECK", web.port!), url: 0 });
    expect(r.ok).toBe(true);
    expect(r.message).toBe(`TCP connect 127.0.0.1:${web.port}: ok`);
  });
  test("a closed port fails at once, saying refused", async () => {
    const port = await closedPort();
    const r = await tcpCheck({ spec: spec("TCP_CHECK", port), url: 0 });
    expect(r.ok).toBe(false);
    expect(r.message).toBe(`TCP connect 127.0.0.1:${port}: connect: connection refused`);
  });
});

describe("HTTP_GET / SSL_GET", () => {
  const check = (urls: UrlSpec[], i = 0, more: Partial<HttpSpec> = {}, port = web.port!) =>
    httpCheck({ spec: spec(more.tls ? "SSL_GET" : "HTTP_GET", port, { http: http(urls, more) }), url: i });

  test("2xx by default; the status set and the reason name the URL", async () => {
    expect((await check([url("/health")])).ok).toBe(true);
    const r = await check([url("/sick", { status: [[200, 200]] })]);
    expect(r.ok).toBe(false);
    expect(r.message).toBe(`HTTP GET 127.0.0.1:${web.port}/sick: status 503, expected 200`);
    expect(
      (
        await check([
          url("/sick", {
            status: [
              [200, 299],
              [503, 503],
            ],
          }),
        ])
      ).ok,
    ).toBe(true);
  });
  test("digest is the MD5 of the body only (the spec's genhash value)", async () => {
    const md5 = createHash("md5").update(BODY).digest("hex");
    expect(md5).toBe("e05003f6b7448aa2c2497bb671696f04");
    expect((await check([url("/health", { digest: md5 })])).ok).toBe(true);
    const bad = await check([url("/health", { digest: "0".repeat(32) })]);
    expect(bad.message).toContain(`digest ${md5}, expected ${"0".repeat(32)}`);
  });
  test("regex and regex_no_match", async () => {
    expect((await check([url("/health", { regex: "keepalive[d]" })])).ok).toBe(true);
    expect((await check([url("/health", { regex: "nope" })])).message).toContain(
      "body does not match /nope/",
    );
    expect((await check([url("/health", { regex: "hello", regexNoMatch: true })])).ok).toBe(false);
  });
  test("several URLs: each check probes the URL it is given", async () => {
    const urls = [url("/health"), url("/sick")];
    expect((await check(urls, 0)).ok).toBe(true);
    expect((await check(urls, 1)).message).toContain("/sick: status 503");
  });
  test("Host header is the virtualhost, else IP:port", async () => {
    const body = async (more: Partial<HttpSpec>) =>
      (await check([url("/host", { regex: ".*" })], 0, more)).ok;
    expect(await body({ virtualhost: "www.example.test" })).toBe(true);
    const exact = await check([url("/host", { regex: `^127\\.0\\.0\\.1:${web.port}$` })]);
    expect(exact.ok).toBe(true);
  });
  test("SSL_GET does not verify a self-signed certificate", async () => {
    const r = await check([url("/")], 0, { tls: true }, secure.port!);
    expect(r.ok).toBe(true);
    expect(r.message).toBe(`HTTPS GET 127.0.0.1:${secure.port}/: status 200`);
  });
  test("SSL_GET against a plain HTTP port fails in the handshake", async () => {
    const r = await check([url("/")], 0, { tls: true }, web.port!);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/TLS connect|read|empty reply/);
  });
  test("a server that accepts and never answers times out per read", async () => {
    const s = silentServer();
    stops.push(() => s.stop(true));
    const t0 = Date.now();
    const r = await httpCheck({
      spec: spec("HTTP_GET", s.port, { http: http([url("/")]), timing: { connectTimeout: 300 } as never }),
      url: 0,
    });
    expect(r.ok).toBe(false);
    expect(r.message).toContain("read: timed out after 300 ms");
    expect(Date.now() - t0).toBeLessThan(2000);
  });
  test("a server that sends garbage is not HTTP", async () => {
    const s = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: { open: (c) => void c.end("\x00\x01garbage\r\n\r\n"), data() {} },
    });
    stops.push(() => s.stop(true));
    const r = await httpCheck({
      spec: spec("HTTP_GET", s.port, { http: http([url("/")]), timing: { connectTimeout: 200 } as never }),
      url: 0,
    });
    expect(r.ok).toBe(false);
    expect(r.message).toContain('not an HTTP response ("\\u0000\\u0001garbage")');
  });
});

describe("SMTP_CHECK", () => {
  test("220 banner, 250 to HELO", async () => {
    const seen: string[] = [];
    const s = lineServer("220 mx.test ESMTP\r\n", (l) => {
      seen.push(l);
      return l.startsWith("HELO") ? "250 hello\r\n" : l === "QUIT" ? "221 bye\r\n" : null;
    });
    stops.push(() => s.stop(true));
    const r = await smtpCheck({
      spec: spec("SMTP_CHECK", s.port, { smtp: { helo: "lb.example.test" } }),
      url: 0,
    });
    expect(r.ok).toBe(true);
    await Bun.sleep(50);
    expect(seen[0]).toBe("HELO lb.example.test");
  });
  test("a 554 banner fails with the banner text", async () => {
    const s = lineServer("554 go away\r\n");
    stops.push(() => s.stop(true));
    const r = await smtpCheck({ spec: spec("SMTP_CHECK", s.port), url: 0 });
    expect(r.message).toBe(`SMTP 127.0.0.1:${s.port}: banner "554 go away", expected 220`);
  });
  test("a server with no banner times out", async () => {
    const s = silentServer();
    stops.push(() => s.stop(true));
    const r = await smtpCheck({
      spec: spec("SMTP_CHECK", s.port, { timing: { connectTimeout: 200 } as never }),
      url: 0,
    });
    expect(r.message).toContain("banner: read: timed out after 200 ms");
  });
});

describe("DNS_CHECK", () => {
  test("a NOERROR reply with the same ID passes", async () => {
    const d = await dnsServer();
    stops.push(() => d.close());
    const r = await dnsCheck({
      spec: spec("DNS_CHECK", d.port, { dns: { type: "A", name: "www.example.test" } }),
      url: 0,
    });
    expect(r.ok).toBe(true);
    expect(r.message).toBe(`DNS A www.example.test @127.0.0.1:${d.port}: NOERROR, 1 answers`);
  });
  test("SERVFAIL fails; a reply with another ID is ignored (timeout)", async () => {
    const bad = await dnsServer({ rcode: 2 });
    const wrong = await dnsServer({ wrongId: true });
    stops.push(
      () => bad.close(),
      () => wrong.close(),
    );
    const s = (port: number) =>
      spec("DNS_CHECK", port, { dns: { type: "SOA", name: "." }, timing: { connectTimeout: 200 } as never });
    expect((await dnsCheck({ spec: s(bad.port), url: 0 })).message).toContain("rcode SERVFAIL");
    expect((await dnsCheck({ spec: s(wrong.port), url: 0 })).message).toContain("no reply within 200 ms");
  });
});

describe("UDP_CHECK", () => {
  test("no reply is a success unless require_reply; ICMP unreachable fails", async () => {
    const silent = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    stops.push(() => silent.close());
    const t = { connectTimeout: 200 } as never;
    const none = { payload: new Uint8Array([1]), requireReply: null, minReply: 0, maxReply: 255 };
    expect(
      (await udpCheck({ spec: spec("UDP_CHECK", silent.port, { udp: none, timing: t }), url: 0 })).ok,
    ).toBe(true);
    const must = { ...none, requireReply: { bytes: new Uint8Array([0]), mask: new Uint8Array([0]) } };
    expect(
      (await udpCheck({ spec: spec("UDP_CHECK", silent.port, { udp: must, timing: t }), url: 0 })).ok,
    ).toBe(false);
    const closed = await closedPort();
    const r = await udpCheck({ spec: spec("UDP_CHECK", closed, { udp: none, timing: t }), url: 0 });
    expect(r.message).toBe(`UDP 127.0.0.1:${closed}: connection refused`);
  });
  test("require_reply with X wildcards and a length range", async () => {
    const echo = await Bun.udpSocket({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data: (s, b, port, addr) =>
          void s.send(new Uint8Array([0xab, 0xcd, ...new Uint8Array(b)]), port, addr),
      },
    });
    stops.push(() => echo.close());
    const udp = (pattern: number[], mask: number[], max = 255) => ({
      payload: new Uint8Array([1, 2]),
      requireReply: { bytes: new Uint8Array(pattern), mask: new Uint8Array(mask) },
      minReply: 0,
      maxReply: max,
    });
    const go = (u: ReturnType<typeof udp>) =>
      udpCheck({ spec: spec("UDP_CHECK", echo.port, { udp: u }), url: 0 });
    expect((await go(udp([0xa0, 0xcd], [0xf0, 0xff]))).ok).toBe(true); // "aXcd"
    expect((await go(udp([0xab, 0xce], [0xff, 0xff]))).message).toContain("does not match require_reply");
    expect((await go(udp([0xab], [0xff], 3))).message).toContain("reply of 4 bytes, expected 0..3");
  });
});

describe("MISC_CHECK", () => {
  const script = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  const misc = (path: string, dynamic = false, timeoutMs = 1000) =>
    miscCheck({ spec: spec("MISC_CHECK", 0, { misc: { path, timeoutMs, dynamic } }), url: 0 });

  test("exit 0 passes, exit 3 fails; arguments are split like keepalived's", async () => {
    const p = script("args.sh", 'test "$1" = "a b" && exit 0; exit 3');
    expect((await misc(`${p} 'a b'`)).ok).toBe(true);
    const r = await misc(`${p} other`);
    expect(r.message).toBe(`MISC "${p} other": exit 3`);
  });
  test("misc_dynamic: exit 1 fails, 0 keeps the weight, 2..255 set weight exit−2", async () => {
    const p = script("dyn.sh", 'exit "$1"');
    expect((await misc(`${p} 1`, true)).ok).toBe(false);
    const zero = await misc(`${p} 0`, true);
    expect([zero.ok, zero.weight]).toEqual([true, undefined]);
    const w = await misc(`${p} 7`, true);
    expect([w.ok, w.weight]).toEqual([true, 5]);
  });
  test("a script that never exits is killed at misc_timeout, its whole process group too", async () => {
    const marker = join(dir, "child.pid");
    const p = script("hang.sh", `sleep 30 & echo $! > ${marker}; trap '' TERM; sleep 30`);
    const t0 = Date.now();
    const r = await misc(p, false, 300);
    expect(r.ok).toBe(false);
    expect(r.message).toContain("no exit within misc_timeout 0.3 s: killed");
    expect(Date.now() - t0).toBeLessThan(3000);
    const pid = Number(await Bun.file(marker).text());
    // The background sleep got SIGTERM with the group; SIGKILL follows 2 s later for anything left.
    let alive = true;
    for (let i = 0; i < 60 && alive; i++) {
      alive = existsSync(`/proc/${pid}`) && !(await Bun.file(`/proc/${pid}/stat`).text()).includes(") Z");
      if (alive) await Bun.sleep(50);
    }
    expect(alive).toBe(false);
  });
  test("a missing script fails with the reason", async () => {
    const r = await misc(join(dir, "nope.sh"));
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/ENOENT|no such file|not found/i);
  });
});

describe("negotiate (ldirectord)", () => {
  const base = {
    host: "127.0.0.1",
    request: "/",
    receive: "",
    virtualhost: null,
    method: "GET" as const,
    login: null,
    passwd: null,
    timeoutMs: 500,
  };
  test("http: 2xx and the body matches receive", async () => {
    expect(
      (
        await negotiate({
          ...base,
          service: "http",
          port: web.port!,
          request: "health",
          receive: "keepalived",
        })
      ).ok,
    ).toBe(true);
    expect(
      (await negotiate({ ...base, service: "http", port: web.port!, request: "health", receive: "nginx" }))
        .ok,
    ).toBe(false);
    expect((await negotiate({ ...base, service: "http", port: web.port!, request: "sick" })).ok).toBe(false);
  });
  test("simpletcp: send the request, read lines until one matches receive", async () => {
    const s = lineServer(null, (l) => (l === "PING" ? "+PONG\r\n" : "-ERR\r\n"));
    stops.push(() => s.stop(true));
    expect(
      (await negotiate({ ...base, service: "simpletcp", port: s.port, request: "PING\\n", receive: "PONG" }))
        .ok,
    ).toBe(true);
    expect(
      (await negotiate({ ...base, service: "simpletcp", port: s.port, request: "HI\\n", receive: "PONG" }))
        .ok,
    ).toBe(false);
  });
  test("pop with login; imap banner; a hung server fails within the timeout", async () => {
    const pop = lineServer("+OK ready\r\n", (l) =>
      l.startsWith("PASS secret") || l.startsWith("USER") ? "+OK\r\n" : "-ERR\r\n",
    );
    const hung = silentServer();
    stops.push(
      () => pop.stop(true),
      () => hung.stop(true),
    );
    expect(
      (await negotiate({ ...base, service: "pop", port: pop.port, login: "u", passwd: "secret" })).ok,
    ).toBe(true);
    expect(
      (await negotiate({ ...base, service: "pop", port: pop.port, login: "u", passwd: "wrong" })).ok,
    ).toBe(false);
    const t0 = Date.now();
    const r = await negotiate({ ...base, service: "imap", port: hung.port, timeoutMs: 300 });
    expect(r.ok).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1500);
  });
  test("dns: an answer matches receive", async () => {
    const d = await dnsServer();
    stops.push(() => d.close());
    expect(
      (
        await negotiate({
          ...base,
          service: "dns",
          port: d.port,
          request: "www.example.test",
          receive: "192\\.0\\.2\\.7",
        })
      ).ok,
    ).toBe(true);
    expect(
      (
        await negotiate({
          ...base,
          service: "dns",
          port: d.port,
          request: "www.example.test",
          receive: "10\\.",
        })
      ).ok,
    ).toBe(false);
  });
});
