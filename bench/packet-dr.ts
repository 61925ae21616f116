/**
 * Issue 7 §4: forwarding rate in the DR lab, the kernel against uvs, on the same path
 * client → router → director → rs1 (one real server, so both runs take the same wires).
 *   kernel: the director's kernel forwards (ip_forward=1, 192.0.2.100/32 via rs1, the router sends
 *           the VIP to the director, no redirects) — the limit;
 *   uvs:    `uvs run --dataplane packet --interface eth0` in the director, a DR service to rs1.
 * Measures 64-byte UDP packets/s arriving at rs1 (its eth0 rx counter) from a sendmmsg generator
 * in the client (bench/udp-flood.ts), and new TCP connections/s (`uvs bench --mode tcp-connect`).
 * Root only; builds and removes its own lab (prefix uvsb-dr). Each run is bounded (SECONDS, ≤ 10).
 *   node_modules/.bin/bun bench/packet-dr.ts            (BENCH_SECONDS=5, BENCH_ROUNDS=1)
 * BENCH_ROUNDS=3 repeats kernel and uvs alternately and prints the median and the range.
 * BENCH_RPS=1 steers the director's receive processing to CPU 1 (RPS) in both halves, so the
 * kernel's forwarding gets the same core uvs is pinned to instead of sharing the generator's.
 * BENCH_TC_DROP=1 (uvs half only): the director's kernel drops VIP frames at tc ingress, after
 * the AF_PACKET taps, instead of in IP input (bench/packet-rx-cost.ts measures the difference).
 * uvs answers for the VIP at a virtual MAC by default, so the director's kernel drops VIP frames
 * as another host's before IP input; BENCH_VIP_MAC=real runs uvs with `--vip-mac real` instead.
 * Besides the rates: the director's Ip InReceives per second (VIP frames reaching its IP input)
 * and rs2's eth0 rx (nothing goes to rs2: anything there was flooded by the bridge).
 *
 * The client closes first, so every connection leaves a TIME_WAIT socket in the client for 60 s.
 * With the default port range (28k ports) and tcp_tw_reuse=2 (loopback only), a few seconds at a
 * few thousand connections/s fill the range and connect() spends its time searching for a free
 * port (the client's system time, not the director, then bounds the rate; worse for whichever half
 * runs second). The client namespace therefore gets tcp_tw_reuse=1: a TIME_WAIT port older than
 * 1 s is reused, which the director must then handle as the kernel does (conn_reuse_mode).
 */
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Lab, labDown, labUp } from "../src/lab/build.ts";
import { labUnavailable, nsSysctl, run } from "../src/lab/netns.ts";
import { selfCommand } from "../src/lab/self.ts";
import { LAB_STATE_DIR } from "../src/lab/state.ts";

const PREFIX = "uvsb-dr";
const SECONDS = Math.min(10, Math.max(1, Number(process.env.BENCH_SECONDS ?? 5)));
const UDP_PORT = 9; // discard: nothing listens, the rx counter is what counts
const CPS_CONCURRENCY = 32;
const ROUNDS = Math.min(5, Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1)));
const RPS = process.env.BENCH_RPS === "1";
const TC_DROP = process.env.BENCH_TC_DROP === "1";
const VIP_MAC = process.env.BENCH_VIP_MAC === "real" ? "real" : "virtual";
const cpus = navigator.hardwareConcurrency;
// The generator on CPU 0; uvs on CPU 1 ("one core"). The kernel forwards veth traffic in the
// sender's softirq, so its baseline runs mostly on the generator's CPU.
const pin = (cpu: number) =>
  cpus > 1 && run(["taskset", "-V"]).code === 0 ? ["taskset", "-c", String(cpu)] : [];

interface Counters {
  rx: number;
  tx: number;
  rxDropped: number;
}

function counters(lab: Lab, role: "rs1" | "rs2" | "director" | "client", ifname = "eth0"): Counters {
  const r = run(["ip", "-n", lab.ns(role), "-s", "-j", "link", "show", ifname]);
  const s = (
    JSON.parse(r.stdout) as {
      stats64: { rx: { packets: number; dropped: number }; tx: { packets: number } };
    }[]
  )[0].stats64;
  return { rx: s.rx.packets, tx: s.tx.packets, rxDropped: s.rx.dropped };
}

function macOf(lab: Lab, role: "router", ifname: string): string {
  const r = run(["ip", "-n", lab.ns(role), "-j", "link", "show", ifname]);
  return (JSON.parse(r.stdout) as { address: string }[])[0].address;
}

/** Frames CPU 1's receive backlog refused (softnet_stat column 2; all namespaces: approximate). */
function backlogDrops(): number {
  const lines = Bun.spawnSync(["cat", "/proc/net/softnet_stat"]).stdout.toString().trim().split("\n");
  return lines[1] ? Number.parseInt(lines[1].split(" ")[1], 16) : Number.NaN;
}

/** `Ip: InReceives` of the director's namespace: datagrams its IP input took in. */
function ipInReceives(lab: Lab): number {
  const lines = lab.exec("director", ["cat", "/proc/net/snmp"]).stdout.split("\n");
  const [head, values] = lines.filter((l) => l.startsWith("Ip:"));
  return head && values ? Number(values.split(" ")[head.split(" ").indexOf("InReceives")]) : Number.NaN;
}

interface UdpResult {
  backlogDropPps: number;
  directorIpPps: number;
  rs2Pps: number;
  sentPps: number;
  rs1Pps: number;
  directorTxPps: number;
  errors: Record<string, number>;
}

function measureUdp(lab: Lab): UdpResult {
  const rs0 = counters(lab, "rs1");
  const rs20 = counters(lab, "rs2");
  const d0 = counters(lab, "director");
  const ip0 = ipInReceives(lab);
  const b0 = backlogDrops();
  const argv = [
    ...pin(0),
    process.execPath,
    join(import.meta.dir, "udp-flood.ts"),
    ...["eth0", macOf(lab, "router", "eth0"), "203.0.113.2", lab.vip, String(UDP_PORT), String(SECONDS)],
  ];
  const r = lab.exec("client", argv);
  if (r.code !== 0) throw new Error(`udp-flood failed: ${r.stderr.trim()}`);
  const g = JSON.parse(r.stdout) as { sent: number; seconds: number; errors: Record<string, number> };
  Bun.sleepSync(200); // let queued frames drain before reading the counters
  const rs1 = counters(lab, "rs1");
  const d1 = counters(lab, "director");
  return {
    backlogDropPps: (backlogDrops() - b0) / g.seconds,
    directorIpPps: (ipInReceives(lab) - ip0) / g.seconds,
    rs2Pps: (counters(lab, "rs2").rx - rs20.rx) / g.seconds,
    sentPps: g.sent / g.seconds,
    rs1Pps: (rs1.rx - rs0.rx) / g.seconds,
    directorTxPps: (d1.tx - d0.tx) / g.seconds,
    errors: g.errors,
  };
}

interface CpsResult {
  cps: number;
  failed: number;
  complete: number;
  /** SYNs the client had to send again (TcpExt TCPSynRetrans): a lost SYN costs 1 s. */
  synRetrans: number;
}

/** A TcpExt counter of the client's namespace (/proc/net/netstat is per namespace). */
function tcpExt(lab: Lab, name: string): number {
  const lines = lab.exec("client", ["cat", "/proc/net/netstat"]).stdout.split("\n");
  const i = lines.findIndex((l) => l.startsWith("TcpExt:") && l.includes(` ${name}`));
  if (i < 0 || !lines[i + 1]) return Number.NaN;
  const k = lines[i].split(" ").indexOf(name);
  return Number(lines[i + 1].split(" ")[k]);
}

function measureCps(lab: Lab): CpsResult {
  const syn0 = tcpExt(lab, "TCPSynRetrans");
  const argv = [
    ...pin(0),
    ...selfCommand(),
    ...["bench", "--mode", "tcp-connect", "-t", String(SECONDS), "-c", String(CPS_CONCURRENCY), "-s", "2"],
    ...["-n", "1000000", `${lab.vip}:80`],
  ];
  const r = lab.exec("client", argv);
  const num = (re: RegExp) => Number(re.exec(r.stdout)?.[1] ?? Number.NaN);
  return {
    cps: num(/Requests per second:\s+([\d.]+)/),
    failed: num(/Failed requests:\s+(\d+)/),
    complete: num(/Complete requests:\s+(\d+)/),
    synRetrans: tcpExt(lab, "TCPSynRetrans") - syn0,
  };
}

/** Client and director settings that hold for both halves (see the header). */
function prepare(lab: Lab): void {
  nsSysctl(lab.ns("client"), "net.ipv4.tcp_tw_reuse", "1");
  if (RPS && cpus > 1)
    lab.exec("director", ["sh", "-c", "echo 2 > /sys/class/net/eth0/queues/rx-0/rps_cpus"]);
}

/** The director's kernel does the director's job: forward VIP traffic to rs1, no redirects. */
function kernelPath(lab: Lab, on: boolean): void {
  const d = lab.ns("director");
  nsSysctl(d, "net.ipv4.ip_forward", on ? "1" : "0");
  for (const k of ["all", "eth0"]) nsSysctl(d, `net.ipv4.conf.${k}.send_redirects`, on ? "0" : "1");
  for (const k of ["all", "eth1"]) nsSysctl(lab.ns("router"), `net.ipv4.conf.${k}.accept_redirects`, "0");
  const verb = on ? "add" : "del";
  run(["ip", "-n", d, "route", verb, `${lab.vip}/32`, "via", "192.0.2.11", "dev", "eth0"]);
  run(["ip", "-n", lab.ns("router"), "route", verb, `${lab.vip}/32`, "via", "192.0.2.2", "dev", "eth1"]);
}

const RULES = (vip: string) => `# bench/packet-dr.ts: DR to rs1 only, UDP discard and TCP 80
virtual_server ${vip} ${UDP_PORT} {
    lvs_sched rr
    lvs_method DR
    protocol UDP
    real_server 192.0.2.11 ${UDP_PORT} {
        weight 1
    }
}
virtual_server ${vip} 80 {
    lvs_sched rr
    lvs_method DR
    protocol TCP
    real_server 192.0.2.11 80 {
        weight 1
    }
}
`;

/**
 * VIP frames dropped at eth0's tc ingress (u32 on the destination, mirred to a veth whose peer
 * drops them as another host's), so the director's IP input never sees them; `off` removes it.
 */
function tcDrop(lab: Lab, vip: string, on: boolean): void {
  const d = lab.ns("director");
  if (!on) {
    run(["tc", "-n", d, "qdisc", "del", "dev", "eth0", "ingress"]);
    run(["ip", "-n", d, "link", "del", "uvsdrop0"]);
    return;
  }
  run(["ip", "-n", d, "link", "add", "uvsdrop0", "type", "veth", "peer", "name", "uvsdrop1"]);
  for (const l of ["uvsdrop0", "uvsdrop1"]) run(["ip", "-n", d, "link", "set", l, "up"]);
  run(["tc", "-n", d, "qdisc", "add", "dev", "eth0", "ingress"]);
  const f = ["tc", "-n", d, "filter", "add", "dev", "eth0", "parent", "ffff:", "protocol", "ip", "u32"];
  const r = run([
    ...f,
    "match",
    "ip",
    "dst",
    `${vip}/32`,
    "action",
    "mirred",
    "egress",
    "redirect",
    "dev",
    "uvsdrop0",
  ]);
  if (r.code !== 0) throw new Error(`tc filter: ${r.stderr.trim()}`);
}

/** Start uvs's packet plane in the director; a string says why it could not run. */
const BENCH_RULES = join(LAB_STATE_DIR, `${PREFIX}-bench.conf`);

async function startUvs(lab: Lab): Promise<{ stop(): Promise<void> } | string> {
  const rules = BENCH_RULES;
  const control = join(LAB_STATE_DIR, `${PREFIX}.sock`);
  writeFileSync(rules, RULES(lab.vip));
  const argv = [...pin(1), ...selfCommand(), "run", "--dataplane", "packet", "--interface", "eth0"];
  argv.push("--vip-mac", VIP_MAC);
  const proc = lab.spawn("director", [...argv, "--rules", rules, "--control", control, "--no-watch"]);
  const deadline = Date.now() + 5000;
  while (!existsSync(control) && proc.exitCode === null && Date.now() < deadline) await Bun.sleep(50);
  if (proc.exitCode !== null || !existsSync(control)) {
    proc.kill("SIGKILL");
    await proc.exited;
    const err = (await new Response(proc.stderr).text()).trim().split("\n")[0];
    return `uvs run --dataplane packet did not start: ${err || "no control socket within 5 s"}`;
  }
  await Bun.sleep(300); // ARP for the VIP answered, rs1 resolved
  return {
    async stop() {
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 3000);
      await proc.exited;
      clearTimeout(t);
    },
  };
}

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "—");

/** Median of the rounds, and the range when there are several. */
function stat(xs: number[]): { median: number; text: string } {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return { median: Number.NaN, text: "—" };
  const m = v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  return { median: m, text: v.length > 1 ? `${fmt(m)} (${fmt(v[0])}–${fmt(v[v.length - 1])})` : fmt(m) };
}

interface Round {
  udp: UdpResult;
  cps: CpsResult;
}

/** One round: the kernel forwards, then uvs does; undefined uvs half when it could not start. */
async function round(lab: Lab): Promise<{ kernel: Round; uvs?: Round; why?: string }> {
  kernelPath(lab, true);
  const kernel = { udp: measureUdp(lab), cps: measureCps(lab) };
  kernelPath(lab, false);
  if (TC_DROP) tcDrop(lab, lab.vip, true);
  try {
    const uvs = await startUvs(lab);
    if (typeof uvs === "string") return { kernel, why: uvs };
    try {
      return { kernel, uvs: { udp: measureUdp(lab), cps: measureCps(lab) } };
    } finally {
      await uvs.stop();
    }
  } finally {
    if (TC_DROP) tcDrop(lab, lab.vip, false);
  }
}

function report(rounds: { kernel: Round; uvs?: Round }[]): void {
  const col = (f: (r: Round) => number) => [
    stat(rounds.map((r) => f(r.kernel))),
    stat(rounds.map((r) => (r.uvs ? f(r.uvs) : Number.NaN))),
  ];
  const line = (name: string, f: (r: Round) => number, withRatio = false) => {
    const [k, u] = col(f);
    const ratio =
      withRatio && k.median > 0 && Number.isFinite(u.median) ? `${(u.median / k.median).toFixed(2)}×` : "";
    return [name, k.text, u.text, ratio];
  };
  const rows = [
    ["", "kernel (director forwards)", "uvs --dataplane packet", "uvs / kernel"],
    line("UDP 64 B at rs1, packets/s", (r) => r.udp.rs1Pps, true),
    line("  generator sent, packets/s", (r) => r.udp.sentPps),
    line("  director eth0 tx, packets/s", (r) => r.udp.directorTxPps),
    line("  CPU 1 backlog drops, packets/s", (r) => r.udp.backlogDropPps),
    line("  director Ip InReceives/s", (r) => r.udp.directorIpPps),
    line("  rs2 eth0 rx, packets/s (flooded)", (r) => r.udp.rs2Pps),
    line("TCP new connections/s", (r) => r.cps.cps, true),
    line("  failed connections", (r) => r.cps.failed),
    line("  client SYN retransmissions", (r) => r.cps.synRetrans),
  ];
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    process.stdout.write(`${r.map((x, c) => (c === 0 ? x.padEnd(w[c]) : x.padStart(w[c]))).join("  ")}\n`);
  const errors = rounds.map((r) => r.kernel.udp.errors).filter((e) => Object.keys(e).length);
  if (errors.length) process.stdout.write(`generator send errors (kernel runs): ${JSON.stringify(errors)}\n`);
}

async function main(): Promise<number> {
  const missing = labUnavailable();
  if (missing) {
    process.stderr.write(`packet-dr: ${missing}\n`);
    return 1;
  }
  await labDown(PREFIX);
  const lab = await labUp("dr", { prefix: PREFIX });
  try {
    prepare(lab);
    const pinned =
      pin(0).length > 0 ? "generator and ab-style client on CPU 0, uvs on CPU 1" : "no CPU pinning";
    const rps =
      (RPS && cpus > 1 ? "; director receive processing on CPU 1 (RPS)" : "") +
      (TC_DROP ? "; uvs half: VIP frames dropped at tc ingress" : "") +
      `; uvs --vip-mac ${VIP_MAC}`;
    process.stdout.write(
      `DR lab up; ${ROUNDS} round(s) of ${SECONDS} s per run, ${cpus} CPU(s), ${pinned}${rps}; client tcp_tw_reuse=1\n`,
    );
    const rounds: { kernel: Round; uvs?: Round }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await round(lab);
      if (r.why) process.stdout.write(`uvs half did not run: ${r.why}\n`);
      rounds.push(r);
    }
    report(rounds);
    return 0;
  } finally {
    await labDown(PREFIX);
    rmSync(BENCH_RULES, { force: true });
  }
}

main().then(
  (code) => process.exit(code),
  async (e) => {
    process.stderr.write(`packet-dr: ${(e as Error).stack ?? e}\n`);
    await labDown(PREFIX);
    process.exit(1);
  },
);
