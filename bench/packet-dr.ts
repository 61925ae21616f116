/**
 * Issue 7 §4: forwarding rate in the DR lab, the kernel against uvs, on the same path
 * client → router → director → rs1 (one real server, so both runs take the same wires).
 *   kernel: the director's kernel forwards (ip_forward=1, 192.0.2.100/32 via rs1, the router sends
 *           the VIP to the director, no redirects) — the limit;
 *   uvs:    `uvs run --dataplane packet --interface eth0` in the director, a DR service to rs1.
 * Measures 64-byte UDP packets/s arriving at rs1 (its eth0 rx counter) from a sendmmsg generator
 * in the client (bench/udp-flood.ts), and new TCP connections/s (`uvs bench --mode tcp-connect`).
 * Root only; builds and removes its own lab (prefix uvsb-dr). Each run is bounded (SECONDS, ≤ 10).
 *   node_modules/.bin/bun bench/packet-dr.ts            (BENCH_SECONDS=5 by default)
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

function counters(lab: Lab, role: "rs1" | "director" | "client", ifname = "eth0"): Counters {
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

interface UdpResult {
  sentPps: number;
  rs1Pps: number;
  directorTxPps: number;
  errors: Record<string, number>;
}

function measureUdp(lab: Lab): UdpResult {
  const rs0 = counters(lab, "rs1");
  const d0 = counters(lab, "director");
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
}

function measureCps(lab: Lab): CpsResult {
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
  };
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

/** Start uvs's packet plane in the director; a string says why it could not run. */
const BENCH_RULES = join(LAB_STATE_DIR, `${PREFIX}-bench.conf`);

async function startUvs(lab: Lab): Promise<{ stop(): Promise<void> } | string> {
  const rules = BENCH_RULES;
  const control = join(LAB_STATE_DIR, `${PREFIX}.sock`);
  writeFileSync(rules, RULES(lab.vip));
  const argv = [...pin(1), ...selfCommand(), "run", "--dataplane", "packet", "--interface", "eth0"];
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
const ratio = (a: number, b: number) => (Number.isFinite(a) && b > 0 ? `${(a / b).toFixed(2)}×` : "—");

async function main(): Promise<number> {
  const missing = labUnavailable();
  if (missing) {
    process.stderr.write(`packet-dr: ${missing}\n`);
    return 1;
  }
  await labDown(PREFIX);
  const lab = await labUp("dr", { prefix: PREFIX });
  try {
    const pinned =
      pin(0).length > 0 ? "generator and ab-style client on CPU 0, uvs on CPU 1" : "no CPU pinning";
    process.stdout.write(`DR lab up; ${SECONDS} s per run, ${cpus} CPU(s), ${pinned}\n`);
    kernelPath(lab, true);
    const kUdp = measureUdp(lab);
    const kCps = measureCps(lab);
    kernelPath(lab, false);

    let uUdp: UdpResult | undefined;
    let uCps: CpsResult | undefined;
    const uvs = await startUvs(lab);
    if (typeof uvs === "string") process.stdout.write(`uvs half WAITING for the packet engine: ${uvs}\n`);
    else
      try {
        uUdp = measureUdp(lab);
        uCps = measureCps(lab);
      } finally {
        await uvs.stop();
      }

    const rows = [
      ["", "kernel (director forwards)", "uvs --dataplane packet", "uvs / kernel"],
      [
        "UDP 64 B at rs1, packets/s",
        fmt(kUdp.rs1Pps),
        fmt(uUdp?.rs1Pps ?? Number.NaN),
        ratio(uUdp?.rs1Pps ?? Number.NaN, kUdp.rs1Pps),
      ],
      ["  generator sent, packets/s", fmt(kUdp.sentPps), fmt(uUdp?.sentPps ?? Number.NaN), ""],
      ["  director eth0 tx, packets/s", fmt(kUdp.directorTxPps), fmt(uUdp?.directorTxPps ?? Number.NaN), ""],
      [
        "TCP new connections/s",
        fmt(kCps.cps),
        fmt(uCps?.cps ?? Number.NaN),
        ratio(uCps?.cps ?? Number.NaN, kCps.cps),
      ],
      ["  failed connections", fmt(kCps.failed), fmt(uCps?.failed ?? Number.NaN), ""],
    ];
    const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows)
      process.stdout.write(`${r.map((x, c) => (c === 0 ? x.padEnd(w[c]) : x.padStart(w[c]))).join("  ")}\n`);
    if (Object.keys(kUdp.errors).length)
      process.stdout.write(`generator send errors (kernel run): ${JSON.stringify(kUdp.errors)}\n`);
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
