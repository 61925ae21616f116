/**
 * The packet engine's own per-frame cost, without sockets: `PacketEngine.frame` (process.ts) on a
 * warmed Director with DR and NAT services, frames copied from prebuilt buffers into an rx slot as
 * the worker's recvmmsg leaves them, sent into a TxQueue that only counts. Many client ports, so the
 * connection table, the NAT reply index and the neighbour table do real lookups. The clock moves
 * once per batch of 64 frames, as the worker's loop moves it.
 *   node_modules/.bin/bun bench/packet-engine.bench.ts       (N=… frames per row, PORTS=… flows)
 * Rows: DR UDP (an established flow), DR TCP ACK (ESTABLISHED), NAT UDP in, NAT UDP reply, and a
 * mix of all four; "copy only" is the rx-slot copy alone (the floor of this harness).
 */
import { C, COUNTER_NAMES } from "../src/dataplane/packet/engine/counters.ts";
import type { InterfaceInfo } from "../src/dataplane/packet/engine/interfaces.ts";
import { PacketEngine, type TxQueue } from "../src/dataplane/packet/engine/process.ts";
import { parseIp } from "../src/model/addr.ts";
import { serviceOps } from "../test/packet/engine-helpers.ts";
import { mac, pkt } from "../test/packet/pkt.ts";

const N = Number(process.env.N ?? 2_000_000);
const PORTS = Number(process.env.PORTS ?? 4096);
const BATCH = 64;

const MAC_D = "02:00:00:00:00:01";
const MAC_ROUTER = "02:00:00:00:00:fe";
const RS = { "192.0.2.11": "02:00:00:00:00:11", "192.0.2.12": "02:00:00:00:00:12" } as const;
const VIP_DR = "192.0.2.100";
const VIP_NAT = "192.0.2.101";
const CLIENT = "203.0.113.2";

/** Counts what the engine commits; never sends. */
class NullTx implements TxQueue {
  private readonly slots = [new Uint8Array(2048), new Uint8Array(2048)];
  frames = 0;
  slot(ifIdx: number): Uint8Array {
    return this.slots[ifIdx];
  }
  commit(_ifIdx: number, len: number): void {
    if (len > 0) this.frames++;
  }
  forward(_ifIdx: number, _buf: Uint8Array, len: number): void {
    if (len > 0) this.frames++;
  }
}

function setup(): { e: PacketEngine; tx: NullTx; counters: Float64Array } {
  const iface: InterfaceInfo = {
    name: "eth0",
    mac: Uint8Array.from(mac(MAC_D)),
    mtu: 1500,
    v4: [{ addr: parseIp("192.0.2.2")!.words[0], prefix: 24 }],
    gateway: parseIp("192.0.2.1")!.words[0],
  };
  const counters = new Float64Array(COUNTER_NAMES.length);
  const tx = new NullTx();
  const e = new PacketEngine({ interfaces: [iface], counters, tx, now: 1000 });
  e.apply([
    ...serviceOps(VIP_DR, 9, [{ addr: "192.0.2.11", port: 9, forward: "route" }], "udp"),
    ...serviceOps(VIP_DR, 80, [{ addr: "192.0.2.11", port: 80, forward: "route" }], "tcp"),
    ...serviceOps(VIP_NAT, 53, [{ addr: "192.0.2.12", port: 53, forward: "masq" }], "udp"),
  ]);
  for (const [ip, m] of Object.entries(RS)) {
    const reply = pkt()
      .eth({ dst: MAC_D, src: m })
      .arp({ op: 2, sha: m, spa: ip, tha: MAC_D, tpa: "192.0.2.2" });
    const f = reply.build();
    e.frame(0, f, f.length, 0);
  }
  return { e, tx, counters };
}

const fromClient = (dst: string) => pkt().eth({ dst: MAC_D, src: MAC_ROUTER }).ipv4({ src: CLIENT, dst });
const udp64 = (b: ReturnType<typeof fromClient>, sport: number, dport: number) =>
  b.udp({ sport, dport }).payload(new Uint8Array(18)).build();

function frames(kind: string, port: number): Uint8Array {
  switch (kind) {
    case "DR UDP 64 B":
      return udp64(fromClient(VIP_DR), port, 9);
    case "DR TCP ACK":
      return fromClient(VIP_DR).tcp({ sport: port, dport: 80, flags: "A" }).build();
    case "NAT UDP in":
      return udp64(fromClient(VIP_NAT), port, 53);
    default: // NAT UDP reply
      return pkt()
        .eth({ dst: MAC_D, src: RS["192.0.2.12"] })
        .ipv4({ src: "192.0.2.12", dst: CLIENT })
        .udp({ sport: 53, dport: port })
        .payload(new Uint8Array(18))
        .build();
  }
}

const KINDS = ["DR UDP 64 B", "DR TCP ACK", "NAT UDP in", "NAT UDP reply"];

/** Open every flow once (TCP: SYN then ACK to ESTABLISHED; NAT: the first datagram in). */
function warm(e: PacketEngine): void {
  for (let p = 0; p < PORTS; p++) {
    const port = 10000 + p;
    const list = [
      udp64(fromClient(VIP_DR), port, 9),
      fromClient(VIP_DR).tcp({ sport: port, dport: 80, flags: "S" }).build(),
      fromClient(VIP_DR).tcp({ sport: port, dport: 80, flags: "A" }).build(),
      udp64(fromClient(VIP_NAT), port, 53),
    ];
    for (const f of list) e.frame(0, f, f.length, 0);
  }
}

function run(kinds: string[], copyOnly: boolean): { ns: number; forwarded: number } {
  const { e, tx, counters } = setup();
  warm(e);
  const set: Uint8Array[] = [];
  for (let p = 0; p < PORTS; p++) for (const k of kinds) set.push(frames(k, 10000 + p));
  const rx = new Uint8Array(2048);
  let now = 2000;
  const body = (count: number) => {
    for (let i = 0; i < count; i++) {
      if ((i & (BATCH - 1)) === 0) {
        now += 0.05;
        e.setNow(now);
      }
      const f = set[i % set.length];
      rx.set(f);
      if (!copyOnly) e.frame(0, rx, f.length, 0);
    }
  };
  body(Math.min(N, 200_000)); // JIT warm-up
  const before = tx.frames;
  const t0 = Bun.nanoseconds();
  body(N);
  const ns = (Bun.nanoseconds() - t0) / N;
  const forwarded = tx.frames - before;
  if (!copyOnly && forwarded !== N)
    throw new Error(
      `${kinds.join("+")}: ${forwarded} of ${N} frames forwarded (no_route ${counters[C.no_route]}, unresolved ${counters[C.neighbour_unresolved]}, not ours ${counters[COUNTER_NAMES.indexOf("frames_not_ours")]})`,
    );
  return { ns, forwarded };
}

console.log(
  `packet engine per frame, ${N.toLocaleString("en-US")} frames per row, ${PORTS} client ports per kind, Bun ${Bun.version}`,
);
console.log("frames          |  ns/frame |   frames/s");
const row = (name: string, ns: number) =>
  console.log(
    `${name.padEnd(15)} | ${ns.toFixed(1).padStart(9)} | ${Math.round(1e9 / ns)
      .toLocaleString("en-US")
      .padStart(10)}`,
  );
row("copy only", run(["DR UDP 64 B"], true).ns);
for (const k of KINDS) row(k, run([k], false).ns);
row("mix of 4", run(KINDS, false).ns);
