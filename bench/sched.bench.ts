/**
 * Pick cost per scheduler for 2, 10, 100 and 1000 destinations: median ns per pick over batches.
 * Run by hand: node_modules/.bin/bun bench/sched.bench.ts
 * Each pick is counted on the chosen dest and that count is undone a batch later, so the
 * connection-based schedulers see a steady, non-trivial load; clients and destination addresses
 * vary so hash and cache schedulers exercise many keys.
 */
import { ipv4FromU32 } from "../src/model/addr.ts";
import { Dest } from "../src/model/dest.ts";
import { RateEstimator } from "../src/model/rate.ts";
import { Service } from "../src/model/service.ts";
import { createScheduler, SCHEDULER_NAMES } from "../src/sched/registry.ts";
import type { SchedPacket } from "../src/sched/scheduler.ts";
import { seededRandom } from "../src/sched/twos.ts";

const SIZES = [2, 10, 100, 1000];
const BATCH = 2000;
const BATCHES = 25;
const KEYS = 4096;

function buildService(name: string, n: number): Service {
  const vip = ipv4FromU32(0xc000020a);
  const svc = new Service(
    { kind: "addr", af: "inet", protocol: "tcp", addr: vip, port: 80 },
    { scheduler: name, flags: 0, timeout: 0, netmask: 0, peName: null },
  );
  const sched = createScheduler(name, svc, 0, { random: seededRandom(42) });
  if (!sched) throw new Error(name);
  svc.sched = sched;
  for (let i = 0; i < n; i++) {
    const addr = ipv4FromU32((0x0a010000 + i + 1) >>> 0);
    const d = new Dest(
      {
        af: "inet",
        addr,
        port: 80,
        forward: "masq",
        weight: 1 + (i % 5),
        uThreshold: 0,
        lThreshold: 0,
        tunnelType: "ipip",
        tunnelPort: 0,
        tunnelCsum: "nocsum",
      },
      new RateEstimator(),
    );
    svc.dests.unshift(d);
    sched.addDest?.(svc, d);
  }
  return svc;
}

function packets(): SchedPacket[] {
  const vip = ipv4FromU32(0xc000020a);
  return Array.from({ length: KEYS }, (_, i) => ({
    af: "inet" as const,
    protocol: "tcp" as const,
    saddr: ipv4FromU32((0xcb007100 + i) >>> 0),
    sport: 1024 + i,
    daddr: i % 2 ? vip : ipv4FromU32((0xc6336400 + (i % 512)) >>> 0),
    dport: 80,
  }));
}

function measure(name: string, n: number): number {
  const svc = buildService(name, n);
  const sched = svc.sched!;
  const pkts = packets();
  const ring: (Dest | null)[] = new Array(BATCH).fill(null);
  const samples: number[] = [];
  let k = 0;
  let now = 0;
  for (let b = 0; b < BATCHES + 3; b++) {
    const t0 = Bun.nanoseconds();
    for (let i = 0; i < BATCH; i++) {
      const d = sched.schedule(svc, pkts[k++ & (KEYS - 1)], now);
      const old = ring[i];
      if (old) old.activeConns--;
      if (d) d.activeConns++;
      ring[i] = d;
    }
    const dt = Bun.nanoseconds() - t0;
    now += 10;
    if (b >= 3) samples.push(dt / BATCH); // first batches warm up the JIT
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

const fmt = (ns: number) => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
const header = ["sched", ...SIZES.map((n) => `${n} dests`)];
const rows: string[][] = [];
for (const name of SCHEDULER_NAMES) rows.push([name, ...SIZES.map((n) => fmt(measure(name, n)))]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r: string[]) =>
  r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
console.log("median ns per pick");
console.log(line(header));
for (const r of rows) console.log(line(r));
