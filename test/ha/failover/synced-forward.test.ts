/**
 * A DR entry that reached a backup through sync is usable by its packet engine: the master's
 * engine schedules a flow and its sync master emits the entry; the backup's engine (same
 * services, its own scheduler state) applies it and forwards the flow's next frames to the same
 * real server's MAC without scheduling anew — dest bound, MAC resolved.
 */
import { describe, expect, test } from "bun:test";
import { Tcp } from "../../../src/conntrack/states.ts";
import { C } from "../../../src/dataplane/packet/engine/counters.ts";
import type { PacketEngine } from "../../../src/dataplane/packet/engine/process.ts";
import {
  applySync,
  arpReply,
  iface,
  serviceOps,
  syncedFlow,
  testEngine,
} from "../../packet/engine-helpers.ts";
import { mac, pkt } from "../../packet/pkt.ts";

const MAC_CLIENT = "02:00:00:00:00:c1";
const MAC_D = "02:00:00:00:00:01";
const RS = { "192.0.2.11": "02:00:00:00:00:11", "192.0.2.12": "02:00:00:00:00:12" } as const;
const VIP = "192.0.2.100";
const CLIENT = "203.0.113.2";

function engine(resolved: boolean) {
  const r = testEngine([iface("eth0", MAC_D, "192.0.2.2/24")]);
  r.e.apply(
    serviceOps(VIP, 80, [
      { addr: "192.0.2.11", port: 80, forward: "route" },
      { addr: "192.0.2.12", port: 80, forward: "route" },
    ]),
  );
  if (resolved) for (const [ip, m] of Object.entries(RS)) arpReply(r.e, 0, ip, m, MAC_D, "192.0.2.2");
  r.tx.take();
  return r;
}

function fromClient(flags: string, sport: number): Uint8Array {
  return pkt()
    .eth({ dst: MAC_D, src: MAC_CLIENT })
    .ipv4({ src: CLIENT, dst: VIP })
    .tcp({ sport, dport: 80, flags })
    .payload(flags.includes("P") ? "GET / HTTP/1.0\r\n\r\n" : "")
    .build();
}

/** Master engine with a sync master; returns the messages the flow `sport` produced. */
function masterFlow(sport: number): { messages: Uint8Array[]; rs: string } {
  const f = syncedFlow(engine(true).e, fromClient, sport, 51);
  expect(f.state).toBe(Tcp.ESTABLISHED);
  return f;
}

const applyAll = (e: PacketEngine, messages: Uint8Array[]) => applySync(e, messages, 51);

describe("a synced DR entry on the backup's packet engine", () => {
  test("is bound to its real server and forwards the flow's next frame to that MAC, no new schedule", () => {
    const { messages, rs } = masterFlow(40001);
    const b = engine(true);
    expect(applyAll(b.e, messages).conns).toBeGreaterThanOrEqual(1);
    const t = b.e.director.conns;
    const slot = [...t.slots()].find((s) => t.cport(s) === 40001)!;
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(t.daddr(slot).text).toBe(rs);
    expect(t.dest(slot)?.addr.text).toBe(rs); // bound: counts and forwarding follow the dest
    expect(t.state(slot)).toBe(Tcp.ESTABLISHED);
    const before = t.dest(slot)!.stats.inpkts;

    const ack = fromClient("A", 40001);
    b.e.frame(0, ack, ack.length, 0);
    const out = b.tx.take();
    expect(out.length).toBe(1);
    expect([...out[0].frame.subarray(0, 6)]).toEqual(mac(RS[rs as keyof typeof RS]));
    expect([...out[0].frame.subarray(12)]).toEqual([...ack.subarray(12)]); // DR: IP packet untouched
    expect(b.counters[C.forward_dr]).toBe(1);
    expect(b.counters[C.flows_new]).toBe(0);
    expect(t.dest(slot)!.stats.inpkts).toBe(before + 1);
  });

  test("with the real server's MAC not resolved yet, the frame waits for ARP (counted), then flows", () => {
    const { messages, rs } = masterFlow(40002);
    const b = engine(false);
    applyAll(b.e, messages);
    const ack = fromClient("A", 40002);
    b.e.frame(0, ack, ack.length, 0);
    expect(b.tx.take().length).toBe(0);
    expect(b.counters[C.neighbour_unresolved]).toBe(1);
    const m = RS[rs as keyof typeof RS];
    const reply = pkt()
      .eth({ dst: MAC_D, src: m })
      .arp({ op: 2, sha: m, spa: rs, tha: MAC_D, tpa: "192.0.2.2" })
      .build();
    b.e.frame(0, reply, reply.length, 0);
    b.e.frame(0, ack, ack.length, 0);
    const out = b.tx.take();
    expect(out.length).toBe(1);
    expect([...out[0].frame.subarray(0, 6)]).toEqual(mac(m));
  });
});
