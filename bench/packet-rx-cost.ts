/**
 * Where the director's CPU goes with RPS on (probe for docs/labs.md): 64-byte UDP to the VIP from
 * the client's generator, the director's receive processing on CPU 1, nothing forwarding; CPU 1's
 * softirq share and the frames that reached the director, per setup:
 *   ip_rcv:   the director's kernel drops the VIP frames in IP input (ip_forward=0) — the floor
 *             every packet-plane director pays today;
 *   blackhole: a blackhole route for the VIP with forwarding on for eth0 only;
 *   tc drop:  an ingress u32 filter on eth0 redirects VIP frames to a veth whose peer is down, so
 *             they are dropped after the AF_PACKET taps and before IP input (the kernel logs
 *             "tc mirred to Houston", rate-limited);
 *   tc to peer: the same with the peer up: the frames reach it for another MAC and its IP input
 *             drops them first thing (PACKET_OTHERHOST);
 *   vmac:     the VIP at a virtual MAC, as `uvs run` answers ARP for it by default (the router's
 *             entry and a static bridge entry at the director's port set by hand): the director's
 *             IP input drops each frame as another host's at its first check.
 * Root only; builds and removes its own DR lab (prefix uvsb-rx). Bounded: SECONDS (≤ 10) per setup.
 *   node_modules/.bin/bun bench/packet-rx-cost.ts
 */
import { join } from "node:path";
import { derivedMac } from "../src/dataplane/packet/engine/vip-macs.ts";
import { formatMac, parseMac } from "../src/dataplane/packet/ethernet.ts";
import { type Lab, labDown, labUp } from "../src/lab/build.ts";
import { labUnavailable, run } from "../src/lab/netns.ts";

const PREFIX = "uvsb-rx";
const SECONDS = Math.min(10, Math.max(1, Number(process.env.BENCH_SECONDS ?? 4)));

function cpu1(): { busy: number; softirq: number; total: number } {
  const l = (Bun.spawnSync(["grep", "^cpu1 ", "/proc/stat"]).stdout.toString().trim().split(/\s+/) ?? [])
    .slice(1)
    .map(Number);
  const total = l.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - l[3] - l[4], softirq: l[6], total };
}

function rxPackets(lab: Lab): number {
  const r = run(["ip", "-n", lab.ns("director"), "-s", "-j", "link", "show", "eth0"]);
  return (JSON.parse(r.stdout) as { stats64: { rx: { packets: number } } }[])[0].stats64.rx.packets;
}

function flood(lab: Lab): { sent: number; seconds: number } {
  const mac = (
    JSON.parse(run(["ip", "-n", lab.ns("router"), "-j", "link", "show", "eth0"]).stdout) as {
      address: string;
    }[]
  )[0].address;
  const argv = [
    "taskset",
    "-c",
    "0",
    process.execPath,
    join(import.meta.dir, "udp-flood.ts"),
    "eth0",
    mac,
    "203.0.113.2",
    lab.vip,
    "9",
    String(SECONDS),
  ];
  const r = lab.exec("client", argv);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

function measure(lab: Lab, name: string): void {
  const c0 = cpu1();
  const r0 = rxPackets(lab);
  const g = flood(lab);
  const c1 = cpu1();
  const r1 = rxPackets(lab);
  const dt = c1.total - c0.total;
  process.stdout.write(
    `${name.padEnd(10)} sent ${Math.round(g.sent / g.seconds)
      .toLocaleString("en-US")
      .padStart(9)}/s  director rx ${Math.round((r1 - r0) / g.seconds)
      .toLocaleString("en-US")
      .padStart(
        9,
      )}/s  CPU 1 softirq ${((100 * (c1.softirq - c0.softirq)) / dt).toFixed(0)} %, busy ${((100 * (c1.busy - c0.busy)) / dt).toFixed(0)} %\n`,
  );
}

async function main(): Promise<void> {
  const missing = labUnavailable();
  if (missing) throw new Error(missing);
  await labDown(PREFIX);
  const lab = await labUp("dr", { prefix: PREFIX, httpServers: false });
  try {
    const d = lab.ns("director");
    lab.exec("director", ["sh", "-c", "echo 2 > /sys/class/net/eth0/queues/rx-0/rps_cpus"]);
    // Nobody answers ARP for the VIP here: point the router at the director by hand.
    const dmac = (
      JSON.parse(run(["ip", "-n", d, "-j", "link", "show", "eth0"]).stdout) as { address: string }[]
    )[0].address;
    run(["ip", "-n", lab.ns("router"), "neigh", "replace", lab.vip, "lladdr", dmac, "dev", "eth1"]);
    measure(lab, "ip_rcv");
    // The VIP at the director's virtual MAC (vip-macs.ts), the bridge told where it is.
    const vmac = formatMac(derivedMac(parseMac(dmac)!));
    run(["ip", "-n", lab.ns("router"), "neigh", "replace", lab.vip, "lladdr", vmac, "dev", "eth1"]);
    const br = ["bridge", "-n", lab.ns("br"), "fdb"];
    run([...br, "replace", vmac, "dev", "director-eth0", "master", "static"]);
    measure(lab, "vmac");
    run([...br, "del", vmac, "dev", "director-eth0", "master"]);
    run(["ip", "-n", lab.ns("router"), "neigh", "replace", lab.vip, "lladdr", dmac, "dev", "eth1"]);
    // A blackhole route for the VIP, forwarding on for eth0 only: IP input still builds a route
    // for every frame (measured: no cheaper).
    run(["ip", "-n", d, "route", "add", "blackhole", `${lab.vip}/32`]);
    run(["ip", "netns", "exec", d, "sysctl", "-qw", "net.ipv4.conf.eth0.forwarding=1"]);
    measure(lab, "blackhole");
    run(["ip", "netns", "exec", d, "sysctl", "-qw", "net.ipv4.conf.eth0.forwarding=0"]);
    run(["ip", "-n", d, "route", "del", "blackhole", `${lab.vip}/32`]);
    run(["ip", "-n", d, "link", "add", "drop0", "type", "veth", "peer", "name", "drop1"]);
    run(["ip", "-n", d, "link", "set", "drop0", "up"]);
    run(["tc", "-n", d, "qdisc", "add", "dev", "eth0", "ingress"]);
    const f = ["tc", "-n", d, "filter", "add", "dev", "eth0", "parent", "ffff:", "protocol", "ip", "u32"];
    const r = run([
      ...f,
      "match",
      "ip",
      "dst",
      `${lab.vip}/32`,
      "action",
      "mirred",
      "egress",
      "redirect",
      "dev",
      "drop0",
    ]);
    if (r.code !== 0) throw new Error(`tc: ${r.stderr}`);
    measure(lab, "tc drop");
    // The peer up: mirred delivers to drop1, whose IP input drops the frames as PACKET_OTHERHOST
    // (another MAC) at once; no "mirred to Houston" log lines for a down device.
    run(["ip", "-n", d, "link", "set", "drop1", "up"]);
    measure(lab, "tc to peer");
  } finally {
    await labDown(PREFIX);
  }
}

main().then(
  () => process.exit(0),
  async (e) => {
    process.stderr.write(`packet-rx-cost: ${(e as Error).message}\n`);
    await labDown(PREFIX);
    process.exit(1);
  },
);
