/**
 * The compiled binary runs the load generator: bundling changes how CommonJS modules (the HDR
 * histogram) and class prototypes are handed over, which `bun run` does not show.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary } from "../../scripts/build.ts";

let dir = "";
let bin = "";
let server: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "uvs-bench-bin-"));
  bin = await buildBinary({ outfile: join(dir, "uvs") });
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("rs-a\n") });
}, 60_000);

afterAll(() => {
  server?.stop(true);
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
