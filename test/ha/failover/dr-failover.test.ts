/**
 * Issue 8 §1/§3 on the packet plane: the DR lab with TWO directors on the real servers' segment
 * (`director` 192.0.2.2 from src/lab, plus `director2` 192.0.2.3 added here), both `uvs run
 * --dataplane packet` with the same services, a vrrp_instance for the VIP (150 MASTER / 100
 * BACKUP, advert_int 1) and `lvs_sync_daemon eth0 VI_1` in global_defs.
 *
 * - The master answers ARP for the VIP, the backup does not; the sync daemons follow VRRP
 *   (master on the MASTER, backup on the BACKUP, syncid = vrid).
 * - A client streams a slow body through the VIP (DR: replies go straight to the client, only its
 *   ACKs need a director); the backup's -Lnc gets the entry through sync; director 1 is killed
 *   (SIGKILL: no priority-0 advert, takeover after Master_Down_Interval); the VIP lives at the
 *   virtual router MAC 00:00:5e:00:01:33 on both directors (the router's entry never changes), and
 *   the backup's gratuitous ARP, sent from that MAC, moves the bridge's entry for it to its port;
 *   its worker forwards the client's frames with the synced entry (InPkts grow) and the transfer
 *   ends with every byte. New connections work too.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { runIpvsadm } from "../../../src/cli/ipvsadm/run.ts";
import { openDaemonBackend } from "../../../src/control/backend.ts";
import { connectControl } from "../../../src/control/client.ts";
import type { Method } from "../../../src/control/protocol.ts";
import { type Lab, labDown, labUp } from "../../../src/lab/build.ts";
import { addNamespace, deleteNamespace, ip, labUnavailable, nsSysctl, run } from "../../../src/lab/netns.ts";
import { MAIN } from "../../helpers/daemon.ts";
import { eventually, type NsProc, spawnInNs } from "../../helpers/proc.ts";

const PREFIX = `uvst-fo${process.pid % 100000}`;
const NS_D2 = `${PREFIX}-director2`;
const VIP = "192.0.2.100";
const FIX = join(import.meta.dir, "fixtures");
/** The slow body: 2 MB over 10 s from whichever real server the flow is scheduled to. */
const BODY_BYTES = 2_000_000;
const BODY_SECONDS = 10;
/** RFC 5798 §7.3 virtual router MAC of vrid 51: where the packet plane answers for the VIP. */
const VRRP_MAC = "00:00:5e:00:01:33";

const hasPython = run(["python3", "-c", "1"]).code === 0;
const unavailable = labUnavailable() ?? (hasPython ? undefined : "needs python3 (slow body server)");
const skip = unavailable !== undefined;
const why = unavailable ?? "root, ip netns";

function rules(state: "MASTER" | "BACKUP", priority: number): string {
  const dests = (port: number) =>
    ["192.0.2.11", "192.0.2.12"]
      .map((a) => `    real_server ${a} ${port} {\n        weight 1\n    }\n`)
      .join("");
  const vs = (port: number) =>
    `virtual_server ${VIP} ${port} {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n${dests(port)}}\n`;
  return `global_defs {
    lvs_sync_daemon eth0 VI_1
}
vrrp_instance VI_1 {
    state ${state}
    interface eth0
    virtual_router_id 51
    priority ${priority}
    advert_int 1
    virtual_ipaddress {
        ${VIP}/32
    }
}
${vs(80)}${vs(8080)}`;
}

type Proc = NsProc;

const procs: Subprocess[] = [];
let dir = "";
let lab: Lab | null = null;

const spawnIn = (ns: string, argv: string[]): Proc => spawnInNs(ns, argv, procs);

interface Director {
  ns: string;
  control: string;
  daemon: Proc;
  mac: string;
  ipvsadm(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }>;
  snapshot(): Promise<Record<string, unknown>>;
}

async function call(control: string, method: Method, params: object): Promise<unknown> {
  const c = await connectControl(control);
  try {
    return await c.call(method, params);
  } finally {
    c.close();
  }
}

async function startDirector(
  ns: string,
  name: string,
  state: "MASTER" | "BACKUP",
  prio: number,
): Promise<Director> {
  const file = join(dir, `${name}.conf`);
  const control = join(dir, `${name}.sock`);
  writeFileSync(file, rules(state, prio));
  const daemon = spawnIn(ns, [
    process.execPath,
    MAIN,
    "run",
    "--dataplane",
    "packet",
    "--interface",
    "eth0",
    "--rules",
    file,
    "--control",
    control,
  ]);
  const up = await eventually(async () => {
    try {
      await call(control, "ping", {});
      return true;
    } catch {
      return false;
    }
  }, 10_000);
  if (!up) throw new Error(`uvs in ${ns} did not start:\n${daemon.out()}`);
  const mac = readMac(ns);
  return {
    ns,
    control,
    daemon,
    mac,
    ipvsadm: (...args) =>
      runIpvsadm(args, {
        argv0: "ipvsadm",
        readStdin: async () => "",
        openBackend: () => openDaemonBackend(control),
      }),
    snapshot: async () => JSON.parse(String(await call(control, "snapshot", { connections: true }))),
  };
}

function readMac(ns: string): string {
  const j = JSON.parse(ip(ns, ["-j", "link", "show", "eth0"], "read eth0")) as { address: string }[];
  return j[0].address;
}

function vrrpState(s: Record<string, unknown>): string | undefined {
  return (s.vrrp as { instances: { state: string }[] } | undefined)?.instances[0]?.state;
}

function inPkts(s: Record<string, unknown>, port: number): number {
  const svc = (s.services as { port?: number; stats: { inpkts: number | string } }[]).find(
    (x) => x.port === port,
  );
  return Number(svc?.stats.inpkts ?? 0);
}

/** The router's neighbour entry for the VIP: its MAC (lower case) or "". */
function routerMacForVip(): string {
  const r = run(["ip", "-n", lab!.ns("router"), "-j", "neigh", "show", VIP]);
  const j = r.code === 0 ? (JSON.parse(r.stdout || "[]") as { lladdr?: string }[]) : [];
  return j[0]?.lladdr?.toLowerCase() ?? "";
}

function curlVip(port: number): { ok: boolean; body: string } {
  const r = run([
    "ip",
    "netns",
    "exec",
    lab!.ns("client"),
    "curl",
    "-s",
    "-m",
    "3",
    `http://${VIP}:${port}/`,
  ]);
  return { ok: r.code === 0, body: r.stdout };
}

/** The bridge port the lab's bridge has learnt `mac` at, or "". */
function bridgePortFor(mac: string): string {
  const r = run(["bridge", "-n", lab!.ns("br"), "-j", "fdb", "show", "br", "br0"]);
  const j = r.code === 0 ? (JSON.parse(r.stdout || "[]") as { mac: string; ifname?: string }[]) : [];
  return j.find((e) => e.mac.toLowerCase() === mac)?.ifname ?? "";
}

/** A second director beside the lab's one: its own namespace, a port on the lab's bridge. */
function addDirector2(): void {
  addNamespace(NS_D2);
  const br = lab!.ns("br");
  ip(
    NS_D2,
    ["link", "add", "eth0", "type", "veth", "peer", "name", "director2-eth0", "netns", br],
    "wire director2",
  );
  ip(br, ["link", "set", "director2-eth0", "master", "br0"], "attach director2 to the bridge");
  ip(br, ["link", "set", "director2-eth0", "up"], "bring director2's port up");
  ip(NS_D2, ["addr", "add", "192.0.2.3/24", "dev", "eth0"], "address director2");
  ip(NS_D2, ["link", "set", "eth0", "up"], "bring director2 eth0 up");
  ip(NS_D2, ["route", "add", "default", "via", "192.0.2.1"], "default route of director2");
  nsSysctl(NS_D2, "net.ipv4.ip_forward", "0");
}

async function cleanup(): Promise<void> {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  await Promise.race([Promise.all(procs.map((p) => p.exited)), Bun.sleep(3000)]);
  deleteNamespace(NS_D2);
  await labDown(PREFIX);
  if (dir) rmSync(dir, { recursive: true, force: true });
}

let d1: Director;
let d2: Director;

beforeAll(async () => {
  if (skip) return;
  await cleanup();
  dir = mkdtempSync(join(tmpdir(), "uvst-fo-"));
  lab = await labUp("dr", { prefix: PREFIX });
  addDirector2();
  for (const rs of ["rs1", "rs2"] as const) {
    const srv = spawnIn(lab.ns(rs), [
      "python3",
      join(FIX, "slow-server.py"),
      "8080",
      String(BODY_BYTES),
      String(BODY_SECONDS),
    ]);
    if (!(await eventually(() => srv.out().includes("listening"), 5000)))
      throw new Error(`slow server: ${srv.out()}`);
  }
  [d1, d2] = await Promise.all([
    startDirector(lab.ns("director"), "d1", "MASTER", 150),
    startDirector(NS_D2, "d2", "BACKUP", 100),
  ]);
}, 60_000);

afterAll(async () => {
  if (skip) return;
  await cleanup();
}, 30_000);

describe("DR failover between two packet-plane directors", () => {
  test.skipIf(skip)(
    `VRRP on the packet plane: only the master answers ARP; sync daemons follow VRRP (${why})`,
    async () => {
      // d1 (150) wins the first election after Master_Down_Interval (3 × 1 s + skew).
      expect(await eventually(async () => vrrpState(await d1.snapshot()) === "master", 8000)).toBe(true);
      expect(vrrpState(await d2.snapshot())).toBe("backup");
      const r = curlVip(80);
      expect(r.ok).toBe(true);
      expect(r.body).toMatch(/192\.0\.2\.1[12]/);
      expect(routerMacForVip()).toBe(VRRP_MAC);
      expect(bridgePortFor(VRRP_MAC)).toBe("director-eth0");
      // lvs_sync_daemon eth0 VI_1: syncid defaults to the instance's vrid (51).
      expect(
        await eventually(
          async () => (await d1.ipvsadm("-L", "--daemon")).stdout.startsWith("master sync daemon"),
          3000,
        ),
      ).toBe(true);
      expect((await d1.ipvsadm("-L", "--daemon")).stdout).toBe(
        "master sync daemon (mcast=eth0, syncid=51, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n",
      );
      expect((await d2.ipvsadm("-L", "--daemon")).stdout).toBe(
        "backup sync daemon (mcast=eth0, syncid=51, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n",
      );
    },
    20_000,
  );

  test.skipIf(skip)(
    `a DR stream survives SIGKILL of the master: synced entry, GARP moves the VIP, every byte arrives (${why})`,
    async () => {
      expect(vrrpState(await d1.snapshot())).toBe("master");
      const client = spawnIn(lab!.ns("client"), [
        "python3",
        join(FIX, "stream-client.py"),
        VIP,
        "8080",
        "30",
      ]);
      expect(await eventually(() => client.out().includes("connected"), 5000)).toBe(true);
      const t0 = Date.now();
      // The entry reaches the backup at its 3rd packet + up to 3 s (partly filled message, 2 s old).
      let row = "";
      const synced = await eventually(async () => {
        const rows = (await d2.ipvsadm("-Lnc")).stdout.split("\n");
        row = rows.find((l) => l.includes(`${VIP}:8080`) && l.includes("ESTABLISHED")) ?? "";
        return row !== "";
      }, 6000);
      expect(synced).toBe(true);
      expect(row).toMatch(
        /^TCP \d\d:\d\d {2}ESTABLISHED 203\.0\.113\.2:\d+ +192\.0\.2\.100:8080 +192\.0\.2\.1[12]:8080$/,
      );
      const syncedAfterMs = Date.now() - t0;
      const before = inPkts(await d2.snapshot(), 8080);
      expect(routerMacForVip()).toBe(VRRP_MAC);
      expect(bridgePortFor(VRRP_MAC)).toBe("director-eth0");

      const killedAt = Date.now();
      d1.daemon.proc.kill("SIGKILL");
      await d1.daemon.proc.exited;

      expect(await eventually(async () => vrrpState(await d2.snapshot()) === "master", 8000, 50)).toBe(true);
      const masterAfterMs = Date.now() - killedAt;
      // The gratuitous ARPs of the takeover (from the virtual router MAC) moved the bridge's entry
      // for that MAC to director 2's port; the router's ARP entry did not need to change.
      expect(await eventually(() => bridgePortFor(VRRP_MAC) === "director2-eth0", 3000)).toBe(true);
      expect(routerMacForVip()).toBe(VRRP_MAC);

      await client.proc.exited;
      const line = client.out().trim().split("\n").pop() ?? "";
      const res = JSON.parse(line) as {
        bytes: number;
        length: number;
        ms: number;
        max_gap_ms: number;
        gap_at_ms: number;
        error: string | null;
      };
      expect(res.error).toBeNull();
      expect(res.length).toBe(BODY_BYTES);
      expect(res.bytes).toBe(BODY_BYTES);
      // The stall is Master_Down_Interval (~3.6 s) plus the real server's retransmission backoff.
      expect(res.max_gap_ms).toBeLessThan(12_000);
      // Director 2 forwarded the client's later frames with the synced entry.
      const after = await d2.snapshot();
      expect(inPkts(after, 8080)).toBeGreaterThan(before);
      // It is now the sync master (lvs_sync_daemon follows VI_1).
      expect((await d2.ipvsadm("-L", "--daemon")).stdout).toStartWith(
        "master sync daemon (mcast=eth0, syncid=51",
      );
      console.log(
        `[dr-failover] synced ${syncedAfterMs} ms after connect; SIGKILL → d2 master ${masterAfterMs} ms; ` +
          `transfer ${res.ms} ms for ${res.bytes} B, longest stall ${res.max_gap_ms} ms ` +
          `(from ${res.gap_at_ms} ms after the client's start; SIGKILL ${killedAt - t0} ms after it connected), ` +
          `d2 InPkts ${before} → ${inPkts(after, 8080)}`,
      );

      // New connections after the failover go through director 2.
      for (let i = 0; i < 4; i++) {
        const r = curlVip(80);
        expect(r.ok).toBe(true);
        expect(r.body).toMatch(/192\.0\.2\.1[12]/);
      }
      const log = readFileSync(lab!.realServers[0].log, "utf8");
      expect(log).toContain("203.0.113.2");
    },
    60_000,
  );
});
