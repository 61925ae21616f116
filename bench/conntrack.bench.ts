/**
 * Connection table at 1,000,000 entries: insert, lookup and expire rates, and bytes per entry
 * (heap growth measured after a forced GC). Run by hand: `node_modules/.bin/bun bench/conntrack.bench.ts`.
 * Targets (issue 2): ≥ 2 M lookups/s and ≤ 200 bytes per entry.
 */
import { heapStats } from "bun:jsc";
import { ConnTable } from "../src/conntrack/table.ts";
import { ipv4FromU32 } from "../src/model/addr.ts";

const N = Number(process.env.N ?? 1_000_000);
const VIP = ipv4FromU32(0xc000020a); // 192.0.2.10
const DEST = ipv4FromU32(0xc633640b); // 198.51.100.11

function heapBytes(): number {
  Bun.gc(true);
  return heapStats().heapSize + heapStats().extraMemorySize;
}

// Client i: address 10.x.y.z from i >> 6, port 1024 + (i & 63)·997 mod 64000: 1M distinct keys.
const caddr = (i: number) => (0x0a000000 + (i >>> 6)) >>> 0;
const cport = (i: number) => 1024 + (((i & 63) * 997 + (i >>> 20)) % 64000);

const before = heapBytes();
const t = new ConnTable(1024);
let t0 = performance.now();
for (let i = 0; i < N; i++) {
  const s = t.insert({
    proto: 6,
    caddr: ipv4FromU32(caddr(i)),
    cport: cport(i),
    vaddr: VIP,
    vport: 80,
    daddr: DEST,
    dport: 80,
    flags: 0,
    state: 1,
    dest: null,
    fwmark: 0,
  });
  t.arm(s, 900_000, i / 1000); // ESTABLISHED timeout, clock moving 1 ms per 1000 inserts
}
const insertS = (performance.now() - t0) / 1000;
const after = heapBytes();

// Lookups through the IPv4 fast path (what the packet plane calls per packet).
const vip = VIP.words[0];
let found = 0;
const LOOKUPS = N * 3;
t0 = performance.now();
for (let k = 0; k < LOOKUPS; k++) {
  const i = ((k * 2654435761) % N) >>> 0;
  if (t.lookup4(6, caddr(i), cport(i), vip, 80) >= 0) found++;
}
const lookupS = (performance.now() - t0) / 1000;
if (found !== LOOKUPS) throw new Error(`lookups found ${found} of ${LOOKUPS}`);

let misses = 0;
t0 = performance.now();
for (let k = 0; k < N; k++) if (t.lookup4(6, caddr(k), 1, vip, 80) < 0) misses++;
const missS = (performance.now() - t0) / 1000;

// Expire everything: pop due entries and remove them.
t0 = performance.now();
let expired = 0;
for (let s = t.popDue(1e12); s >= 0; s = t.popDue(1e12)) {
  t.remove(s);
  expired++;
}
const expireS = (performance.now() - t0) / 1000;
if (expired !== N || t.size !== 0) throw new Error("expiry lost entries");

const fmt = (n: number) => `${(n / 1e6).toFixed(2)} M/s`;
console.log(`connection table, ${N.toLocaleString("en")} entries (bun ${Bun.version})`);
console.log(`  insert+arm   ${fmt(N / insertS)}`);
console.log(`  lookup (hit) ${fmt(LOOKUPS / lookupS)}`);
console.log(`  lookup (miss)${fmt(misses / missS)}`);
console.log(`  expire       ${fmt(N / expireS)}`);
console.log(
  `  memory       ${((after - before) / N).toFixed(1)} bytes/entry (heap growth; capacity ${t.capacity.toLocaleString("en")})`,
);
