/**
 * Per-frame cost of the pure packet codecs on one core: parse + classify + NAT-in rewrite (and, for
 * reference, DR and TUN), for a 64-byte UDP frame and a 54-byte TCP SYN. One reused FrameView, frames
 * rewritten in place (alternating VIP ↔ RIP so every iteration does the same work). The connection-table
 * lookup is a stub here (bench/conntrack.bench.ts measures the table).
 * Run by hand: `node_modules/.bin/bun bench/packet-codec.bench.ts` (N=… to change the frame count).
 */
import { classify, Verdict } from "../src/dataplane/packet/classify.ts";
import { FrameView, VERIFY_L4 } from "../src/dataplane/packet/frame.ts";
import { encapIpip, natDstV4, rewriteDr } from "../src/dataplane/packet/rewrite.ts";
import { ip4u, mac, pkt } from "../test/packet/pkt.ts";

const N = Number(process.env.N ?? 2_000_000);
const VIP = ip4u("192.0.2.10");
const RIP = ip4u("10.0.0.11");
const REAL_MAC = Uint8Array.from(mac("02:00:00:00:00:11"));
const OUR_MAC = Uint8Array.from(mac("02:00:00:00:00:01"));

const frames = {
  "UDP 64 B": pkt().eth().ipv4().udp({ sport: 5353, dport: 53 }).payload(new Uint8Array(22)).build(),
  "TCP SYN 54 B": pkt().eth().ipv4().tcp({ flags: "S" }).build(),
};

type Step = (v: FrameView, i: number) => void;
const steps: Record<string, Step> = {
  "parse+classify": () => {},
  "parse+classify+NAT in": (v, i) => {
    rewriteDr(v, REAL_MAC, OUR_MAC);
    if (i & 1) natDstV4(v, VIP, v.dport);
    else natDstV4(v, RIP, v.dport);
  },
  "parse+classify+DR": (v) => rewriteDr(v, REAL_MAC, OUR_MAC),
};
const out = new Uint8Array(2048);
const tun = { dstMac: REAL_MAC, srcMac: OUR_MAC, saddr: ip4u("192.0.2.2"), daddr: RIP, mtu: 1500, id: 0 };
steps["parse+classify+TUN encap"] = (v) => {
  encapIpip(v, out, tun);
};

function run(frame: Uint8Array, step: Step, verify: boolean): number {
  const v = new FrameView();
  const ctx = {
    isVipV4: (a: number) => a === VIP || a === RIP,
    lookup: () => false,
    parseFlags: verify ? VERIFY_L4 : 0,
  };
  const len = frame.length;
  let bad = 0;
  const body = () => {
    for (let i = 0; i < N; i++) {
      if (classify(frame, len, v, ctx) !== Verdict.NEW_FLOW) bad++;
      step(v, i);
    }
  };
  body(); // warm-up (JIT)
  const t0 = Bun.nanoseconds();
  body();
  const ns = (Bun.nanoseconds() - t0) / N;
  if (bad) throw new Error(`Benchmark frame misclassified ${bad} times`);
  return ns;
}

console.log(`packet codec, ${N.toLocaleString("en-US")} frames per row, one core, Bun ${Bun.version}`);
console.log("frame          | work                       | L4 csum check |  ns/frame |  frames/s");
for (const [fname, frame] of Object.entries(frames)) {
  for (const [sname, step] of Object.entries(steps)) {
    for (const verify of [false, true]) {
      const ns = run(frame.slice(), step, verify);
      const fps = Math.round(1e9 / ns).toLocaleString("en-US");
      console.log(
        `${fname.padEnd(14)} | ${sname.padEnd(26)} | ${(verify ? "yes" : "no").padEnd(13)} | ${ns.toFixed(1).padStart(9)} | ${fps.padStart(10)}`,
      );
    }
  }
}
