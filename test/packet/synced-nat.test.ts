/**
 * A NAT entry that reached a backup through sync is in the backup engine's reply index: after a
 * failover the real server's replies through the new master are rewritten back to VIP:vport
 * (the DR version is test/ha/failover/synced-forward.test.ts). Master engine → sync message →
 * backup engine, as the packet worker runs them.
 */
import { describe, expect, test } from "bun:test";
import { Tcp } from "../../src/conntrack/states.ts";
import { C } from "../../src/dataplane/packet/engine/counters.ts";
import type { PacketEngine } from "../../src/dataplane/packet/engine/process.ts";
import { Reason } from "../../src/dataplane/packet/reasons.ts";
import {
  applySync,
  arpReply,
  checksumsValid,
  iface,
  serviceOps,
  syncedFlow,
  testEngine,
} from "./engine-helpers.ts";
import { ip4, mac, pkt } from "./pkt.ts";

const MAC_CLIENT = "02:00:00:00:00:c1";
const MAC_OUT = "02:00:00:00:00:01"; // director eth0, client side
const MAC_IN = "02:00:00:00:00:02"; // director eth1, real servers
const VMAC_OUT = "06:00:00:00:00:01"; // the VIP's virtual MAC on eth0 (vip-macs.ts)
const RS = { "192.0.2.11": "02:00:00:00:00:11", "192.0.2.12": "02:00:00:00:00:12" } as const;
const VIP = "203.0.113.100";
const CLIENT = "203.0.113.2";

function engine() {
  const r = testEngine([iface("eth0", MAC_OUT, "203.0.113.1/24"), iface("eth1", MAC_IN, "192.0.2.1/24")]);
  r.e.apply(
    serviceOps(VIP, 80, [
      { addr: "192.0.2.11", port: 80, forward: "masq" },
      { addr: "192.0.2.12", port: 80, forward: "masq" },
    ]),
  );
  for (const [ip, m] of Object.entries(RS)) arpReply(r.e, 1, ip, m, MAC_IN, "192.0.2.1");
  r.tx.take();
  return r;
}

function fromClient(flags: string, sport: number): Uint8Array {
  return pkt()
    .eth({ dst: MAC_OUT, src: MAC_CLIENT })
    .ipv4({ src: CLIENT, dst: VIP })
    .tcp({ sport, dport: 80, flags, seq: 100 })
    .payload(flags.includes("P") ? "GET / HTTP/1.0\r\n\r\n" : "")
    .build();
}

function fromServer(rs: string, sport: number): Uint8Array {
  return pkt()
    .eth({ dst: MAC_IN, src: RS[rs as keyof typeof RS] })
    .ipv4({ src: rs, dst: CLIENT, ttl: 64 })
    .tcp({ sport: 80, dport: sport, flags: "PA", seq: 5000 })
    .payload("HTTP/1.0 200 OK\r\n\r\n")
    .build();
}

/** The master carries a flow to ESTABLISHED; returns its sync messages and the real server. */
function masterFlow(sport: number): { messages: Uint8Array[]; rs: string } {
  const f = syncedFlow(engine().e, fromClient, sport, 7);
  expect(f.state).toBe(Tcp.ESTABLISHED);
  expect(f.messages.length).toBeGreaterThan(0);
  return f;
}

function applyAll(e: PacketEngine, messages: Uint8Array[]): void {
  expect(applySync(e, messages, 7).conns).toBeGreaterThanOrEqual(1);
}

/** The reply as it must leave: from VIP:80 to the client, TTL 63, checksums right. */
function expectRewritten(frame: Uint8Array, sport: number): void {
  expect([...frame.subarray(26, 30)]).toEqual(ip4(VIP));
  expect([...frame.subarray(30, 34)]).toEqual(ip4(CLIENT));
  expect((frame[34] << 8) | frame[35]).toBe(80);
  expect((frame[36] << 8) | frame[37]).toBe(sport);
  expect(frame[22]).toBe(63);
  expect(checksumsValid(frame)).toEqual({ ip: true, l4: true });
}

describe("a synced NAT entry on the backup's packet engine", () => {
  test("rewrites the real server's reply to VIP:vport, routed to the client once its MAC resolves", () => {
    const { messages, rs } = masterFlow(40001);
    const b = engine();
    applyAll(b.e, messages);
    expect(b.e.outIndex.size).toBe(1);

    const reply = fromServer(rs, 40001);
    b.e.frame(1, reply.slice(), reply.length, 0);
    expect(b.tx.take().length).toBe(0); // no client frame seen yet: ARP for the client first
    expect(b.counters[C.neighbour_unresolved]).toBe(1);
    expect(b.counters[Reason.NOT_OURS]).toBe(0); // the reply index knew the flow

    arpReply(b.e, 0, CLIENT, MAC_CLIENT, MAC_OUT, "203.0.113.1");
    b.e.frame(1, reply.slice(), reply.length, 0);
    const out = b.tx.take();
    expect(out.length).toBe(1);
    expect(out[0].ifIdx).toBe(0);
    expect([...out[0].frame.subarray(0, 12)]).toEqual([...mac(MAC_CLIENT), ...mac(VMAC_OUT)]);
    expectRewritten(out[0].frame, 40001);
    expect(b.counters[C.forward_nat_out]).toBe(1);
    const t = b.e.director.conns;
    const slot = [...t.slots()].find((s) => t.cport(s) === 40001)!;
    expect(t.dest(slot)?.stats.outpkts).toBe(2); // both replies: counted before the send, as ip_vs_out
  });

  test("after a client frame, replies go to the MAC it came from; the client frame is NATed in", () => {
    const { messages, rs } = masterFlow(40002);
    const b = engine();
    applyAll(b.e, messages);
    const ack = fromClient("A", 40002);
    b.e.frame(0, ack, ack.length, 0);
    const fwd = b.tx.take();
    expect(fwd.length).toBe(1);
    expect(fwd[0].ifIdx).toBe(1);
    expect([...fwd[0].frame.subarray(30, 34)]).toEqual(ip4(rs));
    expect(b.counters[C.flows_new]).toBe(0);

    const reply = fromServer(rs, 40002);
    b.e.frame(1, reply, reply.length, 0);
    const out = b.tx.take();
    expect(out.length).toBe(1);
    expect([...out[0].frame.subarray(0, 6)]).toEqual(mac(MAC_CLIENT));
    expectRewritten(out[0].frame, 40002);
  });

  test("an update of the entry by a later sync message keeps the learned client side", () => {
    const { messages, rs } = masterFlow(40003);
    const b = engine();
    applyAll(b.e, messages);
    const ack = fromClient("A", 40003);
    b.e.frame(0, ack, ack.length, 0);
    applyAll(b.e, messages); // the same entry again (an update)
    b.tx.take();
    const reply = fromServer(rs, 40003);
    b.e.frame(1, reply, reply.length, 0);
    const out = b.tx.take();
    expect(out.length).toBe(1);
    expect([...out[0].frame.subarray(0, 6)]).toEqual(mac(MAC_CLIENT));
    expect(b.e.outIndex.size).toBe(1);
  });
});
