/**
 * Two `uvs run` daemons in two network namespaces joined by a veth pair: `ipvsadm --start-daemon
 * master` on one, `backup` on the other, multicast 224.0.0.81:8848 over the veth. A connection
 * through the master's proxy plane appears on the backup's `-Lnc` with its states; `-L --daemon`
 * prints as ipvsadm does; `--stop-daemon` stops it; after the master is gone the backup takes new
 * connections.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { runIpvsadm } from "../../src/cli/ipvsadm/run.ts";
import { openDaemonBackend } from "../../src/control/backend.ts";
import { connectControl } from "../../src/control/client.ts";
import { MAIN } from "../helpers/daemon.ts";
import { eventually, type NsProc, spawnInNs } from "../helpers/proc.ts";

const NS_M = "uvst-syncm";
const NS_B = "uvst-syncb";
const IF_M = "uvst-sm0";
const IF_B = "uvst-sb0";
const PEER = join(import.meta.dir, "fixtures/peer.ts");
const isRoot = process.getuid?.() === 0;
const hasIp = Bun.spawnSync(["ip", "-V"]).exitCode === 0;
const skip = !isRoot || !hasIp;
const why = !isRoot ? "needs root (network namespaces)" : "needs iproute2 (ip)";

const RULES = `virtual_server 192.0.2.100 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 192.0.2.1 8080 {
        weight 1
    }
}
`;

function sh(...cmd: string[]): void {
  const r = Bun.spawnSync(cmd, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
}

type Proc = NsProc;

/** Bun running `args` in namespace `ns`. */
const spawnIn = (ns: string, args: string[]): Proc => spawnInNs(ns, [process.execPath, ...args], procs);

const procs: Subprocess[] = [];
let dir = "";

interface Node {
  control: string;
  daemon: Proc;
  ipvsadm(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }>;
}

async function startNode(ns: string, name: string): Promise<Node> {
  const rules = join(dir, `${name}.conf`);
  const control = join(dir, `${name}.sock`);
  writeFileSync(rules, RULES);
  const daemon = spawnIn(ns, [MAIN, "run", "--rules", rules, "--control", control, "--drain", "1"]);
  const up = await eventually(async () => {
    try {
      const c = await connectControl(control);
      await c.call("ping", {});
      c.close();
      return true;
    } catch {
      return false;
    }
  }, 10_000);
  if (!up) throw new Error(`daemon in ${ns} did not start:\n${daemon.out()}`);
  return {
    control,
    daemon,
    ipvsadm: (...args) =>
      runIpvsadm(args, {
        argv0: "ipvsadm",
        readStdin: async () => "",
        openBackend: () => openDaemonBackend(control),
      }),
  };
}

function cleanup(): void {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  for (const ns of [NS_M, NS_B]) Bun.spawnSync(["ip", "netns", "del", ns], { stderr: "ignore" });
  if (dir) rmSync(dir, { recursive: true, force: true });
}

let m: Node;
let b: Node;

beforeAll(async () => {
  if (skip) return;
  cleanup();
  dir = mkdtempSync(join(tmpdir(), "uvst-sync-"));
  sh("ip", "netns", "add", NS_M);
  sh("ip", "netns", "add", NS_B);
  sh("ip", "link", "add", IF_M, "netns", NS_M, "type", "veth", "peer", "name", IF_B, "netns", NS_B);
  for (const [ns, ifn, addr] of [
    [NS_M, IF_M, "192.0.2.1/24"],
    [NS_B, IF_B, "192.0.2.2/24"],
  ]) {
    sh("ip", "-n", ns, "addr", "add", addr, "dev", ifn);
    sh("ip", "-n", ns, "addr", "add", "192.0.2.100/32", "dev", "lo");
    sh("ip", "-n", ns, "link", "set", "lo", "up");
    sh("ip", "-n", ns, "link", "set", ifn, "up");
  }
  // Carrier shows a moment after both ends are up (linkwatch); start once both links run.
  const running = (ns: string, ifn: string) =>
    Bun.spawnSync(["ip", "-n", ns, "link", "show", ifn]).stdout.toString().includes("state UP");
  if (!(await eventually(() => running(NS_M, IF_M) && running(NS_B, IF_B), 5000)))
    throw new Error("veth not up");
  const server = spawnIn(NS_M, [PEER, "server", "192.0.2.1", "8080"]);
  if (!(await eventually(() => server.out().includes("listening"), 5000))) throw new Error(server.out());
  [m, b] = await Promise.all([startNode(NS_M, "master"), startNode(NS_B, "backup")]);
}, 30_000);

afterAll(async () => {
  if (skip) return;
  for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM");
  await Promise.race([Promise.all(procs.map((p) => p.exited)), Bun.sleep(3000)]);
  cleanup();
});

/** The -Lnc rows for the client connections (no header). */
async function connRows(n: Node): Promise<string[]> {
  const r = await n.ipvsadm("-Lnc");
  return r.stdout.split("\n").filter((l) => l.startsWith("TCP"));
}

describe("connection sync between two daemons in namespaces", () => {
  test.skipIf(skip)(`start-daemon, -L --daemon (${why})`, async () => {
    expect(
      await b.ipvsadm("--start-daemon", "backup", "--mcast-interface", IF_B, "--syncid", "4"),
    ).toMatchObject({
      code: 0,
    });
    expect(
      await m.ipvsadm("--start-daemon", "master", "--mcast-interface", IF_M, "--syncid", "4"),
    ).toMatchObject({
      code: 0,
    });
    const again = await m.ipvsadm("--start-daemon", "master", "--mcast-interface", IF_M);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("Daemon has already run");
    expect((await m.ipvsadm("-L", "--daemon")).stdout).toBe(
      `master sync daemon (mcast=${IF_M}, syncid=4, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n`,
    );
    expect((await b.ipvsadm("-L", "--daemon")).stdout).toBe(
      `backup sync daemon (mcast=${IF_B}, syncid=4, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n`,
    );
    const bad = await m.ipvsadm("--start-daemon", "backup", "--mcast-interface", "uvst-nosuch0");
    // ipvsadm's words for the kernel's ENODEV, and its exit code.
    expect([bad.code, bad.stderr]).toEqual([255, "No such device\n"]);
  });

  test.skipIf(skip)(
    `a proxied connection shows on the backup: ESTABLISHED, counted active, then TIME_WAIT (${why})`,
    async () => {
      const client = spawnIn(NS_M, [PEER, "client", "192.0.2.100", "80", "5", "4000"]);
      expect(await eventually(() => client.out().includes("echoed 5"), 5000)).toBe(true);
      // A partly filled message leaves the master within ~3 s (2 s age, checked every second).
      let rows: string[] = [];
      expect(
        await eventually(async () => {
          rows = await connRows(b);
          return rows.some((r) => r.includes("ESTABLISHED"));
        }, 4000),
      ).toBe(true);
      expect(rows.length).toBe(1);
      expect(rows[0]).toMatch(
        /^TCP 1[45]:\d\d {2}ESTABLISHED 192\.0\.2\.100:\d+ +192\.0\.2\.100:80 +192\.0\.2\.1:8080$/,
      );
      const masterRow = (await connRows(m))[0];
      expect(masterRow.split(/\s+/).slice(2)).toEqual(rows[0].split(/\s+/).slice(2));
      const ln = (await b.ipvsadm("-Ln")).stdout;
      expect(ln).toMatch(/-> 192\.0\.2\.1:8080 +Masq +1 +1 +0/);

      expect(await eventually(() => client.out().includes("closed"), 8000)).toBe(true);
      expect(
        await eventually(async () => (await connRows(b)).some((r) => r.includes("TIME_WAIT")), 4000),
      ).toBe(true);
      expect((await b.ipvsadm("-Ln")).stdout).toMatch(/-> 192\.0\.2\.1:8080 +Masq +1 +0 +1/);
    },
    20_000,
  );

  test.skipIf(skip)(
    `stop-daemon stops it; -L --daemon is empty (${why})`,
    async () => {
      expect((await b.ipvsadm("--stop-daemon", "backup")).code).toBe(0);
      expect((await b.ipvsadm("-L", "--daemon")).stdout).toBe("");
      const again = await b.ipvsadm("--stop-daemon", "backup");
      expect(again.stderr).toContain("No daemon is running");
      const before = await connRows(b);
      const client = spawnIn(NS_M, [PEER, "client", "192.0.2.100", "80", "5", "100"]);
      expect(await eventually(() => client.out().includes("closed"), 5000)).toBe(true);
      await Bun.sleep(3500);
      expect((await connRows(b)).length).toBe(before.length);
      expect((await connRows(m)).length).toBe(before.length + 1);
    },
    15_000,
  );

  test.skipIf(skip)(
    `after the master is gone the backup serves new connections (${why})`,
    async () => {
      m.daemon.proc.kill("SIGKILL");
      await m.daemon.proc.exited;
      const client = spawnIn(NS_B, [PEER, "client", "192.0.2.100", "80", "3", "0"]);
      expect(await eventually(() => client.out().includes("closed"), 5000)).toBe(true);
      expect(client.out()).toContain("echoed 3");
    },
    10_000,
  );
});
