import { describe, expect, test } from "bun:test";
import { Tcp } from "../../src/conntrack/states.ts";
import { C, COUNTER_NAMES } from "../../src/dataplane/packet/engine/counters.ts";
import { CSUM_NOT_READY, PacketEngine } from "../../src/dataplane/packet/engine/process.ts";
import { Reason } from "../../src/dataplane/packet/reasons.ts";
import type { ForwardMethod } from "../../src/model/dest.ts";
import { arpReply, checksumsValid, iface, RecordingTx, serviceOps, testEngine } from "./engine-helpers.ts";
import { ip4u, mac, pkt } from "./pkt.ts";

const MAC_CLIENT = "02:00:00:00:00:c1";
const MAC_ETH0 = "02:00:00:00:00:01";
const MAC_ETH1 = "02:00:00:00:00:02";
const MAC_RS1 = "02:00:00:00:00:11";
const MAC_RS2 = "02:00:00:00:00:12";
/** The VIP's virtual MACs on eth0/eth1 (vip-macs.ts: first byte 0x02 of the interface MAC → 0x06). */
const VMAC_ETH0 = "06:00:00:00:00:01";
const VMAC_ETH1 = "06:00:00:00:00:02";
const VIP = "203.0.113.100";
const CLIENT = "203.0.113.2";

function setup(forward: ForwardMethod, opts: { resolve?: boolean; mtu?: number } = {}) {
  const { e, tx, counters } = testEngine([
    iface("eth0", MAC_ETH0, "203.0.113.1/24"),
    iface("eth1", MAC_ETH1, "192.0.2.1/24", opts.mtu),
  ]);
  const port = forward === "masq" ? 8080 : 80;
  e.apply(
    serviceOps(VIP, 80, [
      { addr: "192.0.2.11", port, forward },
      { addr: "192.0.2.12", port, forward },
    ]),
  );
  tx.take(); // gratuitous ARP
  if (opts.resolve !== false) {
    resolve(e, "192.0.2.11", MAC_RS1);
    resolve(e, "192.0.2.12", MAC_RS2);
  }
  return { e, tx, counters };
}

function resolve(e: PacketEngine, ip: string, m: string): void {
  arpReply(e, 1, ip, m, MAC_ETH1, "192.0.2.1");
}

function fromClient(flags: string, sport = 40000, partial = false): Uint8Array {
  const b = pkt()
    .eth({ dst: MAC_ETH0, src: MAC_CLIENT })
    .ipv4({ src: CLIENT, dst: VIP })
    .tcp({ sport, dport: 80, flags })
    .payload(flags.includes("P") ? "GET / HTTP/1.0\r\n\r\n" : "");
  return (partial ? b.partialChecksum() : b).build();
}

function fromRs(flags: string, rs = "192.0.2.11", rsMac = MAC_RS1, dport = 40000): Uint8Array {
  return pkt()
    .eth({ dst: MAC_ETH1, src: rsMac })
    .ipv4({ src: rs, dst: CLIENT })
    .tcp({ sport: 8080, dport, flags })
    .build();
}

const hexMac = (f: Uint8Array, off: number) => [...f.subarray(off, off + 6)];
const ipAt = (f: Uint8Array, off: number) => [...f.subarray(off, off + 4)].join(".");
const port = (f: Uint8Array, off: number) => (f[off] << 8) | f[off + 1];

function destOf(e: PacketEngine, addr: string) {
  const svc = [...e.director.services.values()][0];
  return svc.dests.find((d) => d.addr.text === addr)!;
}

describe("ARP for the VIPs", () => {
  test("gratuitous ARP when a VIP appears, replies to requests, none when switched off", () => {
    const counters = new Float64Array(COUNTER_NAMES.length);
    const tx = new RecordingTx();
    const e = new PacketEngine({
      interfaces: [iface("eth0", MAC_ETH0, "203.0.113.1/24"), iface("eth1", MAC_ETH1, "192.0.2.1/24")],
      counters,
      tx,
    });
    e.apply(serviceOps(VIP, 80, [{ addr: "192.0.2.11", port: 80, forward: "masq" }]));
    const garp = tx.take();
    // Only on the link the VIP belongs to: an announcement (sender = target = VIP) broadcast.
    expect(garp.map((s) => s.ifIdx)).toEqual([0]);
    expect(hexMac(garp[0].frame, 0)).toEqual(mac("ff:ff:ff:ff:ff:ff"));
    expect(ipAt(garp[0].frame, 28)).toBe(VIP);
    expect(ipAt(garp[0].frame, 38)).toBe(VIP);

    const req = pkt()
      .eth({ dst: "ff:ff:ff:ff:ff:ff", src: MAC_CLIENT })
      .arp({ sha: MAC_CLIENT, spa: CLIENT, tpa: VIP })
      .build();
    e.frame(0, req, req.length, 0);
    const [reply] = tx.take();
    expect(reply.ifIdx).toBe(0);
    expect(hexMac(reply.frame, 0)).toEqual(mac(MAC_CLIENT));
    expect(reply.frame[21]).toBe(2); // op reply
    expect(hexMac(reply.frame, 6)).toEqual(mac(VMAC_ETH0));
    expect(hexMac(reply.frame, 22)).toEqual(mac(VMAC_ETH0)); // the VIP is at its virtual MAC
    expect(ipAt(reply.frame, 28)).toBe(VIP);
    expect(counters[C.arp_replies]).toBe(1);

    e.setArpFor([]);
    e.frame(0, req, req.length, 0);
    expect(tx.take()).toEqual([]);
    expect(counters[Reason.ARP_NOT_FOR_VIP]).toBe(1);
    expect(e.announce()).toBe(0);
    e.setArpFor([ip4u(VIP)]);
    expect(e.announce()).toBe(1);
  });

  test("ARP for another address is the host's business", () => {
    const { e, tx, counters } = setup("masq");
    const before = counters[Reason.ARP_NOT_FOR_VIP];
    const req = pkt()
      .eth({ dst: "ff:ff:ff:ff:ff:ff", src: MAC_CLIENT })
      .arp({ spa: CLIENT, tpa: "203.0.113.1" })
      .build();
    e.frame(0, req, req.length, 0);
    expect(tx.take()).toEqual([]);
    expect(counters[Reason.ARP_NOT_FOR_VIP]).toBe(before + 1);
  });
});

describe("NAT", () => {
  test("unresolved real server: frame dropped and counted, ARP request sent, then forwarded", () => {
    const { e, tx, counters } = setup("masq", { resolve: false });
    const syn = fromClient("S");
    e.frame(0, syn, syn.length, 0);
    expect(counters[C.neighbour_unresolved]).toBe(1);
    expect(tx.take()).toEqual([]);
    e.tick(2000);
    const asks = tx.take();
    expect(asks.length).toBe(2);
    for (const a of asks) {
      expect(a.ifIdx).toBe(1);
      expect(a.frame[21]).toBe(1); // request
      expect(ipAt(a.frame, 28)).toBe("192.0.2.1"); // from our address on that link
    }
    expect(asks.map((a) => ipAt(a.frame, 38)).sort()).toEqual(["192.0.2.11", "192.0.2.12"]);
    resolve(e, "192.0.2.11", MAC_RS1);
    resolve(e, "192.0.2.12", MAC_RS2);
    // The SYN's entry exists (rr went to the newest-first list head); the retransmit is forwarded.
    e.frame(0, syn, syn.length, 0);
    expect(tx.take().length).toBe(1);
    expect(counters[C.forward_nat_in]).toBe(1);
  });

  test("both directions: addresses, ports, MACs, checksums, TTL and the TCP state walk", () => {
    const { e, tx, counters } = setup("masq");
    const syn = fromClient("S", 40000, true);
    e.frame(0, syn, syn.length, CSUM_NOT_READY);
    const [out] = tx.take();
    expect(out.ifIdx).toBe(1);
    const f = out.frame;
    const rs = ipAt(f, 30);
    expect(["192.0.2.11", "192.0.2.12"]).toContain(rs);
    const rsMac = rs === "192.0.2.11" ? MAC_RS1 : MAC_RS2;
    expect(hexMac(f, 0)).toEqual(mac(rsMac));
    expect(hexMac(f, 6)).toEqual(mac(MAC_ETH1));
    expect(ipAt(f, 26)).toBe(CLIENT); // the real server sees the client's own address
    expect(port(f, 36)).toBe(8080);
    expect(checksumsValid(f)).toEqual({ ip: true, l4: true }); // partial completed, then NAT
    expect(counters[C.flows_new]).toBe(1);
    const dest = destOf(e, rs);
    expect(dest.activeConns).toBe(1); // SYN_RECV counts as active

    const synack = fromRs("SA", rs, rsMac);
    e.frame(1, synack, synack.length, 0);
    const [back] = tx.take();
    expect(back.ifIdx).toBe(0);
    expect(hexMac(back.frame, 0)).toEqual(mac(MAC_CLIENT));
    expect(hexMac(back.frame, 6)).toEqual(mac(VMAC_ETH0)); // from the VIP's MAC
    expect(ipAt(back.frame, 26)).toBe(VIP);
    expect(port(back.frame, 34)).toBe(80);
    expect(back.frame[22]).toBe(63); // routed: TTL - 1
    expect(checksumsValid(back.frame)).toEqual({ ip: true, l4: true });

    const t = e.director.conns;
    const slot = [...t.slots()][0];
    expect(t.state(slot)).toBe(Tcp.SYN_RECV);
    for (const [who, flags, state] of [
      ["c", "A", Tcp.ESTABLISHED],
      ["c", "PA", Tcp.ESTABLISHED],
      ["s", "PA", Tcp.ESTABLISHED],
      ["c", "FA", Tcp.CLOSE_WAIT],
      ["s", "FA", Tcp.TIME_WAIT],
      ["c", "A", Tcp.TIME_WAIT],
    ] as const) {
      const fr = who === "c" ? fromClient(flags) : fromRs(flags, rs, rsMac);
      e.frame(who === "c" ? 0 : 1, fr, fr.length, 0);
      expect(tx.take().length).toBe(1);
      expect(t.state(slot)).toBe(state);
    }
    expect(dest.activeConns).toBe(0);
    expect(dest.inactConns).toBe(1);
    const st = dest.stats;
    expect([st.inpkts, st.outpkts]).toEqual([5, 3]);
    // TIME_WAIT lives for the tcpfin timeout (120 s) after the last packet, then the entry goes.
    e.tick(1000 + 119_000);
    expect(t.size).toBe(1);
    e.tick(1000 + 121_000);
    expect(t.size).toBe(0);
    expect(dest.inactConns).toBe(0);
    expect(tx.take().every((s) => s.frame[21] === 1)).toBe(true); // only ARP refreshes went out
    // The reply index forgot it too: a late reply is not ours.
    const late = fromRs("A", rs, rsMac);
    e.frame(1, late, late.length, 0);
    expect(tx.take()).toEqual([]);
    expect(counters[Reason.NOT_OURS]).toBe(1);
  });

  test("round robin spreads new flows over both real servers", () => {
    const { e, tx } = setup("masq");
    const seen = new Map<string, number>();
    for (let i = 0; i < 10; i++) {
      const syn = fromClient("S", 41000 + i);
      e.frame(0, syn, syn.length, 0);
      const [o] = tx.take();
      const rs = ipAt(o.frame, 30);
      seen.set(rs, (seen.get(rs) ?? 0) + 1);
    }
    expect(seen.get("192.0.2.11")).toBe(5);
    expect(seen.get("192.0.2.12")).toBe(5);
  });

  test("a segment without SYN for an unknown flow is dropped, not scheduled", () => {
    const { e, tx, counters } = setup("masq");
    const ack = fromClient("A");
    e.frame(0, ack, ack.length, 0);
    expect(tx.take()).toEqual([]);
    expect(counters[Reason.NO_FLOW]).toBe(1);
    expect(e.director.conns.size).toBe(0);
  });

  test("an ICMP error from the real server about a flow goes to the client with the VIP put back", () => {
    const { e, tx, counters } = setup("masq");
    const syn = fromClient("S");
    e.frame(0, syn, syn.length, 0);
    const [o] = tx.take();
    const rs = ipAt(o.frame, 30);
    // Port unreachable from the real server, quoting the forwarded SYN (client → rs:8080).
    const quote = o.frame.subarray(14, 14 + 28);
    const icmp = pkt()
      .eth({ dst: MAC_ETH1, src: rs === "192.0.2.11" ? MAC_RS1 : MAC_RS2 })
      .ipv4({ src: rs, dst: CLIENT })
      .icmp({ type: 3, code: 3 })
      .payload(quote)
      .build();
    e.frame(1, icmp, icmp.length, 0);
    const [back] = tx.take();
    expect(back.ifIdx).toBe(0);
    expect(ipAt(back.frame, 26)).toBe(VIP);
    expect(ipAt(back.frame, 14 + 20 + 8 + 16)).toBe(VIP); // embedded destination
    expect(port(back.frame, 14 + 20 + 8 + 20 + 2)).toBe(80);
    expect(counters[C.icmp_forwarded]).toBe(1);
  });
});

describe("DR", () => {
  test("destination MAC of the real server, IP packet untouched, input-only states, no OutPkts", () => {
    const { e, tx, counters } = setup("route");
    const syn = fromClient("S");
    e.frame(0, syn, syn.length, 0);
    const [o] = tx.take();
    expect(o.ifIdx).toBe(1);
    expect([mac(MAC_RS1), mac(MAC_RS2)]).toContainEqual(hexMac(o.frame, 0));
    expect(hexMac(o.frame, 6)).toEqual(mac(VMAC_ETH1)); // from the VIP's MAC on that link
    expect([...o.frame.subarray(12)]).toEqual([...syn.subarray(12)]);
    expect(counters[C.forward_dr]).toBe(1);
    const t = e.director.conns;
    const slot = [...t.slots()][0];
    for (const [flags, state] of [
      ["A", Tcp.ESTABLISHED],
      ["FA", Tcp.FIN_WAIT],
      ["A", Tcp.FIN_WAIT],
    ] as const) {
      const fr = fromClient(flags);
      e.frame(0, fr, fr.length, 0);
      expect(t.state(slot)).toBe(state);
    }
    const rs = t.daddr(slot).text;
    expect(destOf(e, rs).stats.outpkts).toBe(0);
    expect(destOf(e, rs).stats.inpkts).toBe(4);
  });

  test("conn_reuse_mode 1: a SYN on a CLOSE or TIME_WAIT entry is scheduled anew, on FIN_WAIT it reopens", () => {
    const { e, tx, counters } = setup("route");
    const t = e.director.conns;
    const rsMac = (f: Uint8Array) => (hexMac(f, 0).join() === mac(MAC_RS1).join() ? "rs1" : "rs2");
    const send = (flags: string, sport: number) => {
      const f = fromClient(flags, sport);
      e.frame(0, f, f.length, 0);
      const out = tx.take();
      return out.length ? rsMac(out[0].frame) : "dropped";
    };
    const entry = (sport: number) => {
      const slots = [...t.slots()].filter((s) => t.cport(s) === sport);
      expect(slots.length).toBe(1);
      return slots[0];
    };
    // A client that resets and reuses its port at once: CLOSE, so round robin picks the other server.
    const first = send("S", 41000);
    send("A", 41000);
    send("R", 41000);
    expect(t.state(entry(41000))).toBe(Tcp.CLOSE);
    const second = send("S", 41000);
    expect(second).not.toBe(first);
    expect(t.state(entry(41000))).toBe(Tcp.SYN_RECV);
    // SYN, FIN (input-only table: SYN_RECV → TIME_WAIT): again a new connection.
    send("F", 41000);
    expect(t.state(entry(41000))).toBe(Tcp.TIME_WAIT);
    expect(send("S", 41000)).toBe(first);
    expect(counters[C.flows_new]).toBe(3);
    // FIN_WAIT of a DR entry (the director never sees the server's FIN): the SYN reopens the same entry.
    const rs = send("S", 41001);
    send("A", 41001);
    send("FA", 41001);
    const slot = entry(41001);
    expect(t.state(slot)).toBe(Tcp.FIN_WAIT);
    expect(send("S", 41001)).toBe(rs);
    expect(entry(41001)).toBe(slot);
    expect(t.state(slot)).toBe(Tcp.SYN_RECV);
    expect(counters[C.flows_new]).toBe(4);
  });

  test("partial checksum completed before the frame leaves", () => {
    const { e, tx } = setup("route");
    const syn = fromClient("S", 40000, true);
    expect(checksumsValid(syn).l4).toBe(false);
    e.frame(0, syn, syn.length, CSUM_NOT_READY);
    expect(checksumsValid(tx.take()[0].frame)).toEqual({ ip: true, l4: true });
  });
});

describe("TUN", () => {
  test("IPIP to the real server; DF packet too big gets fragmentation needed from the VIP", () => {
    const { e, tx, counters } = setup("tunnel", { mtu: 100 });
    const syn = fromClient("S");
    e.frame(0, syn, syn.length, 0);
    const [o] = tx.take();
    expect(o.ifIdx).toBe(1);
    const f = o.frame;
    expect(f[23]).toBe(4); // outer protocol IPIP
    expect(ipAt(f, 26)).toBe("192.0.2.1");
    expect(["192.0.2.11", "192.0.2.12"]).toContain(ipAt(f, 30));
    expect([...f.subarray(34)]).toEqual([...syn.subarray(14)]); // inner datagram unchanged
    expect(counters[C.forward_tun]).toBe(1);

    const big = pkt()
      .eth({ dst: MAC_ETH0, src: MAC_CLIENT })
      .ipv4({ src: CLIENT, dst: VIP })
      .tcp({ sport: 40000, dport: 80, flags: "PA" })
      .payload("x".repeat(100))
      .build();
    e.frame(0, big, big.length, 0);
    const [err] = tx.take();
    expect(err.ifIdx).toBe(0);
    expect(ipAt(err.frame, 26)).toBe(VIP);
    expect(ipAt(err.frame, 30)).toBe(CLIENT);
    expect([err.frame[34], err.frame[35]]).toEqual([3, 4]);
    expect(port(err.frame, 40)).toBe(80);
    expect(counters[C.tun_frag_needed]).toBe(1);
  });
});

describe("robustness", () => {
  test("garbage, truncations and fragments are counted, never thrown", () => {
    const { e, counters } = setup("masq");
    const syn = fromClient("S");
    for (let n = 0; n < syn.length; n++) e.frame(0, syn.slice(0, n), n, 0);
    const frag = pkt().eth().ipv4({ src: CLIENT, dst: VIP, mf: true }).tcp({ flags: "S" }).build();
    e.frame(0, frag, frag.length, 0);
    for (let i = 0; i < 200; i++) {
      const junk = Uint8Array.from({ length: (i * 7) % 90 }, (_, k) => (k * 31 + i) & 255);
      e.frame(i % 2, junk, junk.length, i & CSUM_NOT_READY);
    }
    expect(counters[Reason.TRUNCATED]).toBeGreaterThan(30);
    expect(counters[Reason.FRAGMENT]).toBe(1);
    expect(counters[C.frames_in]).toBe(syn.length + 201 + 2);
  });
});
