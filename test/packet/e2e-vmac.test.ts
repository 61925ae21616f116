/**
 * The VIP at a virtual MAC in the DR lab: the router learns the VIP at the director's derived MAC,
 * the director's eth0 has it in its unicast filter, the bridge learns it at the director's port, and
 * the director's kernel no longer takes VIP frames into IP input (Ip InReceives does not grow with
 * VIP traffic; ip_rcv_core drops PACKET_OTHERHOST before counting). The same flood with
 * `--vip-mac real` shows the counter does move when the frames reach IP input.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { derivedMac } from "../../src/dataplane/packet/engine/vip-macs.ts";
import { formatMac, parseMac } from "../../src/dataplane/packet/ethernet.ts";
import type { Lab } from "../../src/lab/build.ts";
import { run } from "../../src/lab/netns.ts";
import { selfCommand } from "../../src/lab/self.ts";
import { eventually } from "../helpers/proc.ts";
import { curl, e2eName, type Running, SKIP_E2E, startLab } from "./e2e-helpers.ts";

const PREFIX = "uvst-vmac";
const FLOOD_SECONDS = 1;
let env: Running | undefined;

afterAll(async () => {
  await env?.stop();
}, 30_000);

function linkJson(lab: Lab, role: "director" | "router" | "rs1" | "rs2", ifname: string) {
  const r = run(["ip", "-n", lab.ns(role), "-s", "-j", "link", "show", ifname]);
  return (
    JSON.parse(r.stdout) as { address: string; flags: string[]; stats64: { rx: { packets: number } } }[]
  )[0];
}

/** `Ip: InReceives` of the director's namespace (/proc/net/snmp is per namespace). */
function ipInReceives(lab: Lab): number {
  const lines = lab.exec("director", ["cat", "/proc/net/snmp"]).stdout.split("\n");
  const [head, values] = lines.filter((l) => l.startsWith("Ip:"));
  return Number(values.split(" ")[head.split(" ").indexOf("InReceives")]);
}

function routerMacForVip(lab: Lab): string {
  const r = run(["ip", "-n", lab.ns("router"), "-j", "neigh", "show", lab.vip]);
  return ((JSON.parse(r.stdout || "[]") as { lladdr?: string }[])[0]?.lladdr ?? "").toLowerCase();
}

/** The director's eth0 unicast addresses (`bridge fdb show dev` lists them as "self permanent"). */
function uniFilter(lab: Lab): string[] {
  const r = run(["bridge", "-n", lab.ns("director"), "-j", "fdb", "show", "dev", "eth0"]);
  return (JSON.parse(r.stdout || "[]") as { mac: string }[]).map((e) => e.mac.toLowerCase());
}

function bridgePortFor(lab: Lab, mac: string): string {
  const r = run(["bridge", "-n", lab.ns("br"), "-j", "fdb", "show", "br", "br0"]);
  const j = JSON.parse(r.stdout || "[]") as { mac: string; ifname?: string }[];
  return j.find((e) => e.mac.toLowerCase() === mac)?.ifname ?? "";
}

interface Flood {
  sent: number;
  directorIp: number;
  rsRx: number;
}

/**
 * 64-byte UDP to VIP:9 (no service there: uvs drops them, so any frame at rs1/rs2 was flooded by
 * the bridge) for FLOOD_SECONDS; what the director's IP input and the real servers received.
 */
function flood(lab: Lab): Flood {
  const routerMac = linkJson(lab, "router", "eth0").address;
  const ip0 = ipInReceives(lab);
  const rs0 =
    linkJson(lab, "rs1", "eth0").stats64.rx.packets + linkJson(lab, "rs2", "eth0").stats64.rx.packets;
  const flooder = join(import.meta.dir, "../../bench/udp-flood.ts");
  const argv = [
    process.execPath,
    flooder,
    "eth0",
    routerMac,
    "203.0.113.2",
    lab.vip,
    "9",
    String(FLOOD_SECONDS),
  ];
  const r = lab.exec("client", argv);
  if (r.code !== 0) throw new Error(`udp-flood: ${r.stderr}`);
  Bun.sleepSync(200);
  const rs1 =
    linkJson(lab, "rs1", "eth0").stats64.rx.packets + linkJson(lab, "rs2", "eth0").stats64.rx.packets;
  return {
    sent: (JSON.parse(r.stdout) as { sent: number }).sent,
    directorIp: ipInReceives(lab) - ip0,
    rsRx: rs1 - rs0,
  };
}

test.skipIf(!!SKIP_E2E)(
  e2eName(
    "virtual MAC: ARP, unicast filter, bridge learning; VIP frames never reach the director's IP input",
  ),
  async () => {
    env = await startLab("dr", PREFIX, ["eth0"]);
    const { lab } = env;
    const vmac = formatMac(derivedMac(parseMac(linkJson(lab, "director", "eth0").address)!));
    expect(curl(lab, `http://${lab.vip}/`)).toMatch(/^192\.0\.2\.1[12]$/);
    expect(routerMacForVip(lab)).toBe(vmac);
    expect(uniFilter(lab)).toContain(vmac);
    expect(bridgePortFor(lab, vmac)).toBe("director-eth0");

    const f = flood(lab);
    console.log(`[e2e-vmac] virtual MAC: ${JSON.stringify(f)}`);
    expect(f.sent).toBeGreaterThan(10_000);
    // The director's IP input saw none of them (a few frames of other traffic at most).
    expect(f.directorIp).toBeLessThan(f.sent / 100);
    // The bridge knows the VIP's MAC at the director's port: nothing flooded to the real servers.
    expect(f.rsRx).toBeLessThan(f.sent / 100);
  },
  60_000,
);

test.skipIf(!!SKIP_E2E)(
  e2eName(
    "--vip-mac real: the VIP at eth0's own MAC, no unicast address added, VIP frames do reach IP input",
  ),
  async () => {
    const { lab } = env!;
    const ownMac = linkJson(lab, "director", "eth0").address.toLowerCase();
    const vmac = formatMac(derivedMac(parseMac(ownMac)!));
    env!.proc.kill("SIGTERM");
    await env!.proc.exited;
    expect(await eventually(() => !uniFilter(lab).includes(vmac), 3000)).toBe(true); // dropped with the socket
    run(["ip", "-n", lab.ns("router"), "neigh", "flush", "dev", "eth1"]);
    const control = `/tmp/${PREFIX}-real.sock`;
    const argv = ["run", "--dataplane", "packet", "--interface", "eth0", "--vip-mac", "real", "--no-watch"];
    const proc = lab.spawn("director", [
      ...selfCommand(),
      ...argv,
      ...["--rules", lab.rulesPath, "--control", control],
    ]);
    try {
      expect(await eventually(() => curl(lab, `http://${lab.vip}/`) !== "", 10_000, 200)).toBe(true);
      expect(routerMacForVip(lab)).toBe(ownMac);
      expect(uniFilter(lab)).not.toContain(vmac);
      const f = flood(lab);
      console.log(`[e2e-vmac] real MAC: ${JSON.stringify(f)}`);
      // Each VIP frame now goes through the director's IP input (dropped there: ip_forward=0).
      expect(f.directorIp).toBeGreaterThan(f.sent / 2);
    } finally {
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(3000)]);
      proc.kill("SIGKILL");
    }
  },
  60_000,
);
