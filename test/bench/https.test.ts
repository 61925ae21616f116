/**
 * `uvs bench https://…`: TLS on Bun's sockets, ab's TLS report lines, handshake failures counted
 * as connect failures. The server is Bun.serve with a self-signed certificate made by openssl.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TCPSocketListener } from "bun";
import { parseTarget } from "../../src/bench/target.ts";
import { runBenchCli } from "../../src/cli/bench.ts";

const OPENSSL = Bun.which("openssl");
const AB = Bun.which("ab");

async function uvs(args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = "";
  let err = "";
  const code = await runBenchCli(args, { out: (s) => (out += s), err: (s) => (err += s), tty: false });
  return { out, err, code };
}

/** Report lines from "Server Software:" to the blank line after "Document Length:". */
const head = (text: string) => {
  const lines = text.slice(text.indexOf("Server Software:")).split("\n");
  return lines.slice(0, lines.findIndex((l) => l.startsWith("Document Length:")) + 1);
};

test("https URLs: port 443 by default, the Host header without it, SNI only for names", () => {
  expect(parseTarget("https://www.example.test/x")).toMatchObject({
    port: 443,
    hostHeader: "www.example.test",
    tls: true,
    serverName: "www.example.test",
  });
  expect(parseTarget("https://192.0.2.1:8443/")).toMatchObject({
    port: 8443,
    hostHeader: "192.0.2.1:8443",
    serverName: null,
  });
  expect(parseTarget("https://[2001:db8::1]/")).toMatchObject({
    hostHeader: "[2001:db8::1]",
    serverName: null,
  });
  expect(parseTarget("http://a.test:443/")).toMatchObject({ hostHeader: "a.test:443", tls: false });
});

describe.skipIf(!OPENSSL)("against a TLS server (needs openssl to make a certificate)", () => {
  let dir = "";
  // A plain-HTTP server answers the ClientHello as a bad request and closes, as nginx does.
  const plain = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { data: (s) => void s.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n") },
  });
  let server: TCPSocketListener<{ buf: string }> | null = null;
  let connections = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "uvs-tls-"));
    const r = Bun.spawnSync([
      OPENSSL!,
      ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"],
      ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
    ]);
    if (r.exitCode !== 0) throw new Error(`openssl: ${r.stderr}`);
    // HTTP/1.0 keep-alive as nginx does it: kept, and said so, when the request asks.
    server = Bun.listen<{ buf: string }>({
      hostname: "127.0.0.1",
      port: 0,
      tls: {
        key: readFileSync(join(dir, "key.pem"), "utf8"),
        cert: readFileSync(join(dir, "cert.pem"), "utf8"),
      },
      socket: {
        open: (s) => {
          connections++;
          s.data = { buf: "" };
        },
        data: (s, b) => {
          s.data.buf += b.toString();
          for (let end = s.data.buf.indexOf("\r\n\r\n"); end >= 0; end = s.data.buf.indexOf("\r\n\r\n")) {
            const keep = /\r\nconnection: keep-alive/i.test(s.data.buf.slice(0, end));
            s.data.buf = s.data.buf.slice(end + 4);
            const body = "<html>tls</html>\n";
            s.write(
              `HTTP/1.1 200 OK\r\nServer: tls-test\r\nContent-Length: ${body.length}\r\nConnection: ${keep ? "keep-alive" : "close"}\r\n\r\n${body}`,
            );
            if (!keep) s.end();
          }
        },
      },
    });
  });
  afterAll(() => {
    server?.stop(true);
    plain.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const flags of [[], ["-k"]]) {
    test(`uvs bench ${flags.join(" ")} -n 200 -c 4 https://…: every request answered, ab's TLS lines`, async () => {
      const before = connections;
      const u = await uvs([...flags, "-n", "200", "-c", "4", `https://127.0.0.1:${server!.port}/`]);
      expect(u.code).toBe(0);
      expect(u.out).toContain("Server Software:        tls-test\n");
      expect(u.out).toContain("Complete requests:      200\nFailed requests:        0\n");
      expect(u.out).toContain("Document Length:        17 bytes\n");
      // -k: one TLS connection per slot for the whole run; without: one per request.
      if (flags.length) expect(u.out).toContain("Keep-Alive requests:    200\n");
      expect(connections - before).toBe(flags.length ? 4 : 200);
      // version, OpenSSL's cipher name, the server key's bits, the cipher's bits
      expect(
        head(u.out).some((l) => /^SSL\/TLS Protocol: {7}TLSv1\.[23],[A-Z0-9_-]+,2048,(128|256)$/.test(l)),
      ).toBe(true);
      expect(u.out).not.toContain("TLS Server Name:"); // an address: no SNI, as ab
    });
  }

  test("a name is sent as SNI and reported as ab does", async () => {
    const u = await uvs(["-n", "5", `https://localhost:${server!.port}/`]);
    expect(u.out).toContain(`Server Port:            ${server!.port}\nSSL/TLS Protocol:`);
    expect(u.out).toContain("TLS Server Name:        localhost\n\nDocument Path:");
  });

  test.skipIf(!AB)("the lines around the TLS ones are ab's (ab's Server Temp Key line aside)", async () => {
    const args = ["-n", "20", "-c", "2", `https://localhost:${server!.port}/`];
    // Not spawnSync: the server runs in this process.
    const p = Bun.spawn([AB!, ...args], { stdout: "pipe", stderr: "ignore" });
    const a = await new Response(p.stdout).text();
    const u = await uvs(args);
    const label = (l: string) => l.slice(0, l.indexOf(":") + 1);
    expect(head(u.out).map(label)).toEqual(
      head(a)
        .filter((l) => !l.startsWith("Server Temp Key:"))
        .map(label),
    );
  });

  test("https to a plain-HTTP server: each request a connect failure of kind 'tls handshake'", async () => {
    const u = await uvs(["-n", "6", "-c", "2", `https://127.0.0.1:${plain.port}/`]);
    expect(u.out).toContain(
      "Failed requests:        6\n   (Connect: 6, Receive: 0, Length: 0, Exceptions: 0)\n",
    );
    expect(u.out).toContain("  tls handshake                6");
  });

  test("--engine ffi has no TLS: a clear error", async () => {
    const u = await uvs(["--engine", "ffi", "-n", "1", `https://127.0.0.1:${server!.port}/`]);
    expect(u.code).not.toBe(0);
    expect(u.err).toContain("--engine ffi has no TLS");
  });
});
