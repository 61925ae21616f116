/**
 * Health checks through the real daemon (`uvs run` subprocess): traffic leaves a failed server
 * and comes back, inhibit_on_failure keeps existing connections, the sorry server takes over and
 * gives back; the snapshot and the `health` control method carry the states.
 */
import { afterEach, expect, test } from "bun:test";
import { formatHealthTable } from "../../src/cli/health.ts";
import { connectControl } from "../../src/control/client.ts";
import { parseSnapshot } from "../../src/model/snapshot.ts";
import {
  bodyOf,
  freePort,
  httpGet,
  namedServer,
  type RunningDaemon,
  startDaemon,
  until,
} from "../helpers/daemon.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
}, 10_000);

/** A named back end whose /health answers 200 or 503 as the test says. */
function backend(name: string) {
  const state = { healthy: true };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) =>
      new URL(req.url).pathname === "/health"
        ? new Response(state.healthy ? "ok" : "sick", { status: state.healthy ? 200 : 503 })
        : new Response(`${name}\n`),
  });
  cleanups.push(() => server.stop(true));
  return { server, state };
}

async function health(d: RunningDaemon) {
  const c = await connectControl(d.control);
  const r = await c.call("health", {});
  c.close();
  return r.entries;
}

const FAST = "    delay_loop 0.2\n    connect_timeout 0.5\n    warmup 0\n";
const vsText = (vip: number, body: string, opts = "") =>
  `virtual_server 127.0.0.1 ${vip} {\n    lvs_sched rr\n    lvs_method NAT\n    protocol TCP\n${FAST}${opts}${body}}\n`;
const httpRs = (port: number) =>
  `    real_server 127.0.0.1 ${port} {\n        HTTP_GET {\n            url {\n                path /health\n                status_code 200\n            }\n            retry 0\n        }\n    }\n`;
const tcpRs = (port: number, checkPort: number) =>
  `    real_server 127.0.0.1 ${port} {\n        TCP_CHECK {\n            connect_port ${checkPort}\n            retry 0\n        }\n    }\n`;

async function names(vip: number, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(bodyOf(await httpGet(vip)));
  return out;
}

test("traffic moves away from a server whose HTTP check fails, and back when it passes", async () => {
  const a = backend("a");
  const b = backend("b");
  const vip = await freePort();
  const d = await startDaemon(vsText(vip, httpRs(a.server.port!) + httpRs(b.server.port!)));
  cleanups.push(() => d.stop());
  await until(async () => (await health(d)).every((e) => e.last?.ok), 3000, "first checks");
  expect(new Set(await names(vip, 4))).toEqual(new Set(["a", "b"]));
  a.state.healthy = false;
  const t0 = Date.now();
  await until(async () => (await health(d)).some((e) => e.state === "down"), 3000, "a marked down");
  expect(Date.now() - t0).toBeLessThan(200 + 500 + 500); // delay_loop + connect_timeout (+ slack)
  expect(await names(vip, 4)).toEqual(["b", "b", "b", "b"]);
  const down = (await health(d)).find((e) => e.state === "down")!;
  expect(down.server).toBe(`127.0.0.1:${a.server.port}`);
  expect(down.last?.message).toBe(`HTTP GET 127.0.0.1:${a.server.port}/health: status 503, expected 200`);
  const table = formatHealthTable(await health(d), Date.now());
  expect(table).toContain(`127.0.0.1:${a.server.port}  HTTP_GET  DOWN`);
  expect(d.output()).toContain(`real server 127.0.0.1:${a.server.port} DOWN: removed`);
  // The rules file is never rewritten by health changes.
  expect(await Bun.file(d.rules).text()).toContain(`real_server 127.0.0.1 ${a.server.port}`);
  a.state.healthy = true;
  await until(async () => (await health(d)).every((e) => e.state === "up"), 3000, "a back up");
  expect(new Set(await names(vip, 4))).toEqual(new Set(["a", "b"]));
  const c = await connectControl(d.control);
  const snap = parseSnapshot(await c.call("snapshot", {}));
  c.close();
  expect(snap.health?.map((h) => h.state)).toEqual(["up", "up"]);
}, 10_000);

test("inhibit_on_failure: the failed server keeps its connection at weight 0, new ones go elsewhere", async () => {
  const echo = (tag: string) =>
    Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: { data: (s, buf) => void s.write(`${tag}:${buf}`) },
    });
  const a = echo("a");
  const b = echo("b");
  const aHealth = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const bHealth = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  cleanups.push(
    () => a.stop(true),
    () => b.stop(true),
    () => bHealth.stop(true),
  );
  const vip = await freePort();
  const rules = vsText(
    vip,
    tcpRs(a.port, aHealth.port) + tcpRs(b.port, bHealth.port),
    "    inhibit_on_failure\n",
  );
  const d = await startDaemon(rules);
  cleanups.push(() => d.stop());
  await until(async () => (await health(d)).every((e) => e.last?.ok), 3000, "first checks");
  // Hold connections until one lands on a.
  let got = "";
  const held = await Bun.connect({
    hostname: "127.0.0.1",
    port: vip,
    socket: {
      data: (_s, x) => {
        got += new TextDecoder().decode(x);
      },
    },
  });
  cleanups.push(() => held.end());
  held.write("1");
  await until(() => got.length > 0, 2000, "echo");
  const onA = got.startsWith("a:");
  const failing = onA ? aHealth : bHealth;
  failing.stop(true);
  await until(async () => (await d.ipvsadm("-Ln")).stdout.includes(" 0 "), 3000, "weight 0");
  const list = (await d.ipvsadm("-Ln")).stdout;
  expect(list).toContain(`127.0.0.1:${onA ? a.port : b.port}`); // still in the table
  got = "";
  held.write("2");
  await until(() => got.length > 0, 2000, "echo on the held connection");
  expect(got).toBe(`${onA ? "a" : "b"}:2`);
  if (onA) aHealth.stop(true);
}, 10_000);

test("the sorry server takes over when every real server is down and gives back", async () => {
  const a = backend("a");
  const sorry = namedServer("sorry");
  cleanups.push(() => sorry.stop(true));
  const vip = await freePort();
  const d = await startDaemon(
    vsText(vip, httpRs(a.server.port!), `    sorry_server 127.0.0.1 ${sorry.port}\n`),
  );
  cleanups.push(() => d.stop());
  await until(async () => (await health(d)).every((e) => e.last?.ok), 3000, "first checks");
  expect(await names(vip, 2)).toEqual(["a", "a"]);
  a.state.healthy = false;
  await until(async () => (await names(vip, 1))[0] === "sorry", 3000, "sorry server");
  expect(d.output()).toContain("quorum lost");
  a.state.healthy = true;
  await until(async () => (await names(vip, 1))[0] === "a", 3000, "given back");
  expect(await names(vip, 2)).toEqual(["a", "a"]);
}, 10_000);
