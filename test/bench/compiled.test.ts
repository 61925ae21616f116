/**
 * The compiled binary runs the load generator: bundling changes how CommonJS modules (the HDR
 * histogram) and class prototypes are handed over, which `bun run` does not show.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary } from "../../scripts/build.ts";
import { okAnswer, type RawServer, rawServer } from "./servers.ts";

let dir = "";
let bin = "";
// A server that keeps HTTP/1.0 connections alive and says so (Bun.serve closes them).
let server: RawServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "uvs-bench-bin-"));
  bin = await buildBinary({ outfile: join(dir, "uvs") });
  server = rawServer(okAnswer("rs-a\n"));
}, 60_000);

afterAll(() => {
  server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const engine of ["ffi", "bun"]) {
  test(`dist/uvs bench --engine ${engine}: every request completes, ab's report and the spread`, async () => {
    const p = Bun.spawn(
      [
        bin,
        "bench",
        "--engine",
        engine,
        "-n",
        "300",
        "-c",
        "10",
        "-k",
        "--server-body",
        `http://127.0.0.1:${server.port}/`,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [out, err, code] = await Promise.all([
      new Response(p.stdout).text(),
      new Response(p.stderr).text(),
      p.exited,
    ]);
    expect(err).not.toContain("Error");
    expect(code).toBe(0);
    expect(out).toMatch(/^Complete requests:\s+300$/m);
    expect(out).toMatch(/^Failed requests:\s+0$/m);
    expect(out).toMatch(/^Keep-Alive requests:\s+300$/m);
    expect(out).toMatch(/rs-a\s+300\s+100\.0%/);
    expect(out).toMatch(new RegExp(`^HTTP engine: ${engine}$`, "m")); // names: no C fast path
  }, 30_000);
}

test("dist/uvs bench: the ffi engine's C fast path is built in the binary and carries a run", async () => {
  const p = Bun.spawn([bin, "bench", "-n", "3000", "-c", "10", "-k", `http://127.0.0.1:${server.port}/`], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  expect(code).toBe(0);
  expect(out).toMatch(/^Complete requests:\s+3000$/m);
  expect(out).toMatch(/^Failed requests:\s+0$/m);
  expect(out).toMatch(/^Keep-Alive requests:\s+3000$/m);
  expect(out).toMatch(/^HTTP engine: ffi \(C fast path\)$/m);
}, 30_000);

test("dist/uvs run: a kept-alive connection moves to a relay thread (the worker is built in) and its bytes are counted", async () => {
  const free = () => {
    const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const p = l.port;
    l.stop(true);
    return p;
  };
  const [vip, mport] = [free(), free()];
  const rules = join(dir, "relay.conf");
  await Bun.write(
    rules,
    `virtual_server 127.0.0.1 ${vip} {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 127.0.0.1 ${server.port} {\n    }\n}\n`,
  );
  const control = join(dir, "relay.sock");
  const d = Bun.spawn(
    [
      bin,
      "run",
      "--rules",
      rules,
      "--control",
      control,
      "--metrics",
      `127.0.0.1:${mport}`,
      "--proxy-threads",
      "1",
      "--drain",
      "0",
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  try {
    const metric = async (name: string) => {
      const m = await (await fetch(`http://127.0.0.1:${mport}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\d+)$`, "m").exec(m)?.[1] ?? -1);
    };
    for (let i = 0; i < 100 && (await metric("uvs_proxy_open_connections").catch(() => -1)) < 0; i++)
      await Bun.sleep(50);
    // fetch keeps the connection alive: three requests on one connection.
    for (let i = 0; i < 3; i++) expect(await (await fetch(`http://127.0.0.1:${vip}/`)).text()).toBe("rs-a\n");
    expect(await metric("uvs_proxy_open_connections")).toBe(1);
    expect(await metric("uvs_proxy_relayed_connections")).toBe(1);
    await Bun.sleep(150); // the relay reports its counts every 100 ms
    const stats = Bun.spawnSync([bin, "--control", control, "-Ln", "--stats"]).stdout.toString();
    const row = stats.split("\n").find((l) => l.includes(`127.0.0.1:${server.port}`)) ?? "";
    const [conns, inpkts, outpkts] = row.trim().split(/\s+/).slice(2, 5).map(Number); // "->", address, …
    expect([conns, inpkts, outpkts]).toEqual([1, 3, 3]);
  } finally {
    d.kill();
    await d.exited;
  }
}, 30_000);
