/**
 * The entry point as a user runs it: a subprocess of `bun src/main.ts`, so argv dispatch, stdin,
 * stdout/stderr and exit codes are the real ones.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringifyJsonBig } from "../../src/util/json-big.ts";
import { bodyOf, freePort, httpGet } from "../helpers/daemon.ts";
import { expected, fixtureSnapshot, loadSchedFixtures } from "../helpers/sched-fixture.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const FIX = join(import.meta.dir, "../../fixtures/ipvsadm");

async function uvs(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, UVS_STATE: "", UVS_CONTROL: "/nonexistent/uvs.sock", ...opts.env },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

describe("uvs entry point", () => {
  test("UVS_STATE=… uvs -Ln --stats prints the golden bytes", async () => {
    const r = await uvs(["-Ln", "--stats"], {
      env: { UVS_STATE: join(FIX, "02_mixed_protocols/scenario.json") },
    });
    expect(r.stdout).toBe(readFileSync(join(FIX, "02_mixed_protocols/Ln_stats.txt"), "utf8"));
    expect(r.code).toBe(0);
  });

  test("uvs --state FILE ipvsadm … and a link named ipvsadm agree", async () => {
    const r = await uvs(["--state", join(FIX, "01_basic_tcp/scenario.json"), "ipvsadm", "-Ln"]);
    expect(r.stdout).toBe(readFileSync(join(FIX, "01_basic_tcp/Ln.txt"), "utf8"));
  });

  // Only the compiled binary knows the name it was started by (under `bun script` the link is
  // resolved away), so this one needs `npm run build` first; CI builds before it tests.
  const BIN = join(import.meta.dir, "../../dist/uvs");
  test.skipIf(!existsSync(BIN))(
    "a link named ipvsadm to dist/uvs is ipvsadm (needs dist/uvs: npm run build)",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "uvs-e2e-"));
      try {
        symlinkSync(BIN, join(dir, "ipvsadm"));
        // With no arguments ipvsadm means `ipvsadm -L`.
        const proc = Bun.spawn([join(dir, "ipvsadm")], {
          stdout: "pipe",
          env: { ...process.env, UVS_STATE: join(FIX, "01_basic_tcp/scenario.json") },
        });
        expect(await new Response(proc.stdout).text()).toBe(
          readFileSync(join(FIX, "01_basic_tcp/L.txt"), "utf8"),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test("uvs ipvsadm -h needs no state; without a state a listing fails as on a box without IPVS", async () => {
    const h = await uvs(["ipvsadm", "-h"]);
    expect(h.code).toBe(0);
    expect(h.stdout.split("\n")[0]).toBe("ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)");
    const l = await uvs(["-Ln"]);
    expect(l.code).toBe(2);
    expect(l.stderr).toMatch(
      /^Can't initialize ipvs: .*\nAre you sure that IP Virtual Server is built in the kernel or as module\?\n$/,
    );
  });

  test("uvs --help is ipvsadm's help on stdout, and stderr points to uvs help; uvs ipvsadm -h has no pointer", async () => {
    const viaUvs = await uvs(["--help"]);
    const plain = await uvs(["ipvsadm", "--help"]);
    expect(viaUvs.stdout).toBe(plain.stdout);
    expect(viaUvs.stderr).toContain("`uvs help` lists uvs's own commands");
    expect(plain.stderr).toBe("");
    const own = await uvs(["help"]);
    expect(own.stdout).toContain("uvs run [--rules FILE]");
  });

  test("changes are written back to the state file; a failed one leaves it untouched", async () => {
    const dir = mkdtempSync(join(tmpdir(), "uvs-e2e-"));
    try {
      const state = join(dir, "lvs.json");
      expect((await uvs(["--state", state, "-A", "-t", "192.0.2.10:80", "-s", "wrr"])).code).toBe(0);
      expect(
        (await uvs(["--state", state, "-a", "-t", "192.0.2.10:80", "-r", "198.51.100.11", "-m", "-w", "3"]))
          .code,
      ).toBe(0);
      const before = readFileSync(state, "utf8");
      const dup = await uvs(["--state", state, "-a", "-t", "192.0.2.10:80", "-r", "198.51.100.11", "-m"]);
      expect([dup.code, dup.stderr]).toEqual([255, "Destination already exists\n"]);
      expect(readFileSync(state, "utf8")).toBe(before);
      const save = await uvs(["--state", state, "-S", "-n"]);
      expect(save.stdout).toBe(
        "-A -t 192.0.2.10:80 -s wrr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 3\n",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a broken state file is refused with a message naming the field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "uvs-e2e-"));
    try {
      const state = join(dir, "bad.json");
      writeFileSync(state, '{"services":[{"protocol":"tcp","address":"192.0.2.300","port":80}]}');
      const r = await uvs(["--state", state, "-Ln"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("services[0].address");
      expect(readFileSync(state, "utf8")).toContain("192.0.2.300");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("uvs simulate answers every connect of a kernel fixture", async () => {
    const f = loadSchedFixtures().find((x) => x.name.startsWith("06_wrr"))!;
    const dir = mkdtempSync(join(tmpdir(), "uvs-e2e-"));
    try {
      const state = join(dir, "s.json");
      writeFileSync(state, stringifyJsonBig(fixtureSnapshot(f)));
      const ops = `${f.ops.map((o) => JSON.stringify(o)).join("\n")}\nnot json\n`;
      const r = await uvs(["simulate", "--state", state], { stdin: ops });
      const lines = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      const picks = lines.filter((l) => "conn" in l).map((l) => l.dest);
      expect(picks).toEqual(expected(f));
      expect(lines.at(-1)).toEqual({ error: "not a JSON object", line: f.ops.length + 1 });
      expect(r.code).toBe(0);
      const missing = await uvs(["simulate", "--state", join(dir, "nope", "x.json")], { stdin: "" });
      expect(missing.code).toBe(0); // a missing file is an empty table: every connect gets null
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("uvs demo serves the embedded rules on loopback with two back ends and lists the table", async () => {
    const [vip, a, b] = [await freePort(), await freePort(), await freePort()];
    const proc = Bun.spawn(
      [
        process.execPath,
        MAIN,
        "demo",
        "--duration",
        "1.5",
        "--vip-port",
        `${vip}`,
        "--backend-ports",
        `${a},${b}`,
      ],
      {
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const names: string[] = [];
    for (let i = 0; i < 40 && names.length < 2; i++) {
      await Bun.sleep(25);
      try {
        names.push(bodyOf(await httpGet(vip)));
      } catch {}
    }
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    expect(new Set(names)).toEqual(new Set(["backend-a", "backend-b"]));
    expect(out).toContain(`TCP  127.0.0.1:${vip} rr\n`);
    for (const port of [a, b])
      expect(out).toMatch(new RegExp(`\\n  -> 127\\.0\\.0\\.1:${port} +Masq    1      0          1 `));
  });
});
