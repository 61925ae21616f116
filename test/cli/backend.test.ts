/**
 * `uvs backend`: the tiny real server of the demo and the labs, over raw sockets: its answers,
 * HTTP/1.0 and 1.1 keep-alive as nginx does them, pipelining, bodies skipped, bad requests, the log.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBackend } from "../../src/cli/backend.ts";

const dir = mkdtempSync(join(tmpdir(), "uvs-backend-"));
const log = join(dir, "requests.log");
const server = startBackend({ host: "127.0.0.1", port: 0, name: "rs-7", log });
afterAll(() => {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Send `bytes`, collect what comes back until the server closes or `ms` pass; and whether it closed. */
async function exchange(bytes: string, ms = 300): Promise<{ text: string; closed: boolean }> {
  let text = "";
  let closed = false;
  const sock = await Bun.connect({
    hostname: "127.0.0.1",
    port: server.port,
    socket: {
      data: (_s, b) => {
        text += b.toString();
      },
      close: () => {
        closed = true;
      },
    },
  });
  sock.write(bytes);
  const end = Date.now() + ms;
  while (!closed && Date.now() < end) await Bun.sleep(10);
  const byServer = closed; // before our own end(), whose close event may come at once
  if (!closed) sock.end();
  return { text, closed: byServer };
}

const answers = (t: string) => t.split("HTTP/1.1 ").slice(1);

test("HTTP/1.0 with keep-alive: kept and said so; without: closed; 1.1: kept unless close", async () => {
  const ka = await exchange(
    "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\nGET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
  );
  expect(answers(ka.text).length).toBe(2);
  expect(ka.text).toContain("\r\nConnection: keep-alive\r\n");
  expect(ka.closed).toBe(false);
  const plain = await exchange("GET / HTTP/1.0\r\n\r\n");
  expect(plain.closed).toBe(true);
  expect(plain.text).toContain("\r\nConnection: close\r\n\r\nrs-7\n");
  expect((await exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).closed).toBe(false);
  expect((await exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).closed).toBe(true);
});

test("the answer names the server in the body and two headers; HEAD has no body; a POST body is skipped", async () => {
  const r = await exchange("GET /x HTTP/1.1\r\n\r\n");
  expect(r.text).toMatch(/^HTTP\/1\.1 200 OK\r\nDate: .+ GMT\r\n/);
  expect(r.text).toContain("X-Backend: rs-7\r\nX-Real-Server: rs-7\r\nContent-Length: 5\r\n");
  expect(r.text.endsWith("\r\n\r\nrs-7\n")).toBe(true);
  const head = await exchange("HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  expect(answers(head.text).length).toBe(2);
  expect(answers(head.text)[0].endsWith("\r\n\r\n")).toBe(true);
  // The body (with something that looks like a request in it) is not read as a request.
  const post = await exchange("POST /p HTTP/1.1\r\nContent-Length: 16\r\n\r\nGET / HTTP/1.1\r\n");
  expect(answers(post.text).length).toBe(1);
});

test("a request that is not HTTP gets 400 and a close", async () => {
  const r = await exchange("SSH-2.0-x\r\n\r\n");
  expect(r.text).toBe("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  expect(r.closed).toBe(true);
});

test("--log: one line per request with the client's address and port, method and path", async () => {
  await exchange("GET /logged?q=1 HTTP/1.0\r\n\r\n");
  const last = readFileSync(log, "utf8").trimEnd().split("\n").at(-1)!;
  expect(last).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z 127\.0\.0\.1 \d+ GET \/logged$/);
});
