/**
 * Virtual MACs for the VIPs (engine/vip-macs.ts): ARP answers and announcements carry the VIP's
 * MAC, frames the kernel calls PACKET_OTHERHOST are taken only when addressed to it, and frames
 * uvs sends for a VIP (DR, TUN, NAT replies, ICMP from the VIP) leave from it.
 */
import { describe, expect, test } from "bun:test";
import { parseRunArgs, type RunOptions } from "../../src/cli/run.ts";
import { C } from "../../src/dataplane/packet/engine/counters.ts";
import { UnicastFilter } from "../../src/dataplane/packet/engine/mac-filter.ts";
import { vipMacMode } from "../../src/dataplane/packet/engine/plane.ts";
import { derivedMac, type VipMacMode, vrrpMac } from "../../src/dataplane/packet/engine/vip-macs.ts";
import { formatMac } from "../../src/dataplane/packet/ethernet.ts";
import type { ForwardMethod } from "../../src/model/dest.ts";
import { arpReply, iface, serviceOps, testEngine } from "./engine-helpers.ts";
import { ip4u, mac, pkt } from "./pkt.ts";

const MAC_CLIENT = "02:00:00:00:00:c1";
const MAC_ETH0 = "52:54:00:00:00:01";
const MAC_ETH1 = "52:54:00:00:00:02";
const VMAC_ETH0 = "02:54:00:00:00:01";
const VMAC_ETH1 = "02:54:00:00:00:02";
const VRRP_51 = "00:00:5e:00:01:33";
const MAC_RS1 = "02:00:00:00:00:11";
const VIP = "203.0.113.100";
const CLIENT = "203.0.113.2";

const hexMac = (f: Uint8Array, off: number) => [...f.subarray(off, off + 6)];

function setup(forward: ForwardMethod, vipMac: VipMacMode = "virtual", mtu = 1500) {
  const ifs = [iface("eth0", MAC_ETH0, "203.0.113.1/24"), iface("eth1", MAC_ETH1, "192.0.2.1/24", mtu)];
  const r = testEngine(ifs, { vipMac });
  r.e.apply(serviceOps(VIP, 80, [{ addr: "192.0.2.11", port: forward === "masq" ? 8080 : 80, forward }]));
  arpReply(r.e, 1, "192.0.2.11", MAC_RS1, MAC_ETH1, "192.0.2.1");
  return r;
}

function arpRequest(): Uint8Array {
  return pkt()
    .eth({ dst: "ff:ff:ff:ff:ff:ff", src: MAC_CLIENT })
    .arp({ sha: MAC_CLIENT, spa: CLIENT, tpa: VIP })
    .build();
}

function toVip(dstMac: string, flags = "S", payload = ""): Uint8Array {
  return pkt()
    .eth({ dst: dstMac, src: MAC_CLIENT })
    .ipv4({ src: CLIENT, dst: VIP })
    .tcp({ sport: 40000, dport: 80, flags })
    .payload(payload)
    .build();
}

describe("which MAC a VIP lives at", () => {
  test("RFC 5798 virtual router MAC; per interface a locally administered MAC from the interface's", () => {
    expect([...vrrpMac(51)]).toEqual(mac(VRRP_51));
    expect([...derivedMac(Uint8Array.from(mac(MAC_ETH0)))]).toEqual(mac(VMAC_ETH0));
    // An interface MAC that already starts with 02 would give itself: 06 instead (still unicast).
    expect([...derivedMac(Uint8Array.from(mac("02:aa:bb:cc:dd:ee")))]).toEqual(mac("06:aa:bb:cc:dd:ee"));
    const d = derivedMac(Uint8Array.from(mac("a6:12:34:56:78:9a")));
    expect(d[0] & 1).toBe(0); // unicast
    expect(d[0] & 2).toBe(2); // locally administered
  });

  test("ARP reply and gratuitous ARP carry the VIP's virtual MAC (Ethernet source and sender address)", () => {
    const { e, tx } = setup("route");
    const garp = tx.take().find((s) => s.frame[21] === 1 && s.frame[12] === 8 && s.frame[13] === 6);
    expect(garp).toBeDefined();
    expect(hexMac(garp!.frame, 6)).toEqual(mac(VMAC_ETH0));
    expect(hexMac(garp!.frame, 22)).toEqual(mac(VMAC_ETH0));
    const req = arpRequest();
    e.frame(0, req, req.length, 0);
    const [reply] = tx.take();
    expect(reply.frame[21]).toBe(2);
    expect(hexMac(reply.frame, 6)).toEqual(mac(VMAC_ETH0));
    expect(hexMac(reply.frame, 22)).toEqual(mac(VMAC_ETH0));
  });

  test("a VIP of a vrrp_instance is at 00:00:5e:00:01:VRID, announced again when its MAC changes", () => {
    const { e, tx, counters } = setup("route");
    tx.take();
    const garps = counters[C.garp_sent];
    e.setVrids(new Map([[ip4u(VIP), 51]]));
    const [garp] = tx.take();
    expect(counters[C.garp_sent]).toBe(garps + 1);
    expect(hexMac(garp.frame, 6)).toEqual(mac(VRRP_51));
    expect(hexMac(garp.frame, 22)).toEqual(mac(VRRP_51));
    const req = arpRequest();
    e.frame(0, req, req.length, 0);
    expect(hexMac(tx.take()[0].frame, 22)).toEqual(mac(VRRP_51));
    e.setVrids(new Map([[ip4u(VIP), 51]])); // unchanged: no announcement
    expect(tx.take()).toEqual([]);
    // A backup (VIP not answered) announces nothing when the mapping changes.
    e.setArpFor([]);
    e.setVrids(new Map());
    expect(tx.take()).toEqual([]);
  });

  test("--vip-mac real: the interface's own MAC, no frames for other hosts accepted", () => {
    const { e, tx } = setup("route", "real");
    const [garp] = tx.take();
    expect(hexMac(garp.frame, 22)).toEqual(mac(MAC_ETH0));
    e.setVrids(new Map([[ip4u(VIP), 51]]));
    expect(tx.take()).toEqual([]);
    expect(e.acceptsOtherHost(0, toVip(VMAC_ETH0))).toBe(false);
    expect(e.acceptsOtherHost(0, toVip(VRRP_51))).toBe(false);
  });
});

describe("frames for other hosts (PACKET_OTHERHOST)", () => {
  test("accepted at the MAC of a VIP we answer for, not at another host's MAC", () => {
    const { e } = setup("route");
    expect(e.acceptsOtherHost(0, toVip(VMAC_ETH0))).toBe(true);
    expect(e.acceptsOtherHost(1, toVip(VMAC_ETH1))).toBe(true);
    expect(e.acceptsOtherHost(0, toVip(VMAC_ETH1))).toBe(false); // eth1's VIP MAC on eth0
    expect(e.acceptsOtherHost(0, toVip("02:00:00:00:00:99"))).toBe(false);
    expect(e.acceptsOtherHost(0, toVip(VRRP_51))).toBe(false);
    e.setVrids(new Map([[ip4u(VIP), 51]]));
    expect(e.acceptsOtherHost(0, toVip(VRRP_51))).toBe(true);
    expect(e.acceptsOtherHost(0, toVip(VMAC_ETH0))).toBe(false); // no VIP left at the derived MAC
    // A VRRP backup does not answer for the VIP: frames flooded to its MAC are not ours.
    e.setArpFor([]);
    expect(e.acceptsOtherHost(0, toVip(VRRP_51))).toBe(false);
    e.setArpFor([ip4u(VIP)]);
    expect(e.acceptsOtherHost(0, toVip(VRRP_51))).toBe(true);
    expect(e.vipMacs.accepted(0).map((m) => [...m])).toEqual([mac(VRRP_51)]);
  });

  test("no VIP, nothing accepted; a VIP that goes away takes its MAC with it", () => {
    const { e } = setup("route");
    const version = e.macsVersion;
    e.apply([{ op: "flush" }]);
    expect(e.macsVersion).toBeGreaterThan(version);
    expect(e.acceptsOtherHost(0, toVip(VMAC_ETH0))).toBe(false);
    expect(e.vipMacs.accepted(0)).toEqual([]);
  });
});

describe("frames sent for a VIP leave from its MAC", () => {
  test("DR: to the real server's MAC, from the VIP's MAC on the real server's link", () => {
    const { e, tx, counters } = setup("route");
    tx.take();
    const syn = toVip(VMAC_ETH0);
    e.frame(0, syn, syn.length, 0);
    const [o] = tx.take();
    expect(counters[C.forward_dr]).toBe(1);
    expect(o.ifIdx).toBe(1);
    expect(hexMac(o.frame, 0)).toEqual(mac(MAC_RS1));
    expect(hexMac(o.frame, 6)).toEqual(mac(VMAC_ETH1));
  });

  test("TUN: the outer frame and the fragmentation-needed answer from the VIP's MAC", () => {
    const { e, tx } = setup("tunnel", "virtual", 100);
    tx.take();
    const syn = toVip(VMAC_ETH0);
    e.frame(0, syn, syn.length, 0);
    const [o] = tx.take();
    expect(o.frame[23]).toBe(4);
    expect(hexMac(o.frame, 6)).toEqual(mac(VMAC_ETH1));
    // Sent to the interface's own MAC (a client with an old ARP entry): the answer is still from the VIP's.
    const big = toVip(MAC_ETH0, "PA", "x".repeat(100));
    e.frame(0, big, big.length, 0);
    const [err] = tx.take();
    expect([err.frame[34], err.frame[35]]).toEqual([3, 4]);
    expect(hexMac(err.frame, 0)).toEqual(mac(MAC_CLIENT));
    expect(hexMac(err.frame, 6)).toEqual(mac(VMAC_ETH0));
  });

  test("NAT: into the real server from the interface's MAC, the reply to the client from the VIP's", () => {
    const { e, tx } = setup("masq");
    tx.take();
    const syn = toVip(VMAC_ETH0);
    e.frame(0, syn, syn.length, 0);
    const [inbound] = tx.take();
    expect(hexMac(inbound.frame, 6)).toEqual(mac(MAC_ETH1)); // from the director, not the VIP
    const synack = pkt()
      .eth({ dst: MAC_ETH1, src: MAC_RS1 })
      .ipv4({ src: "192.0.2.11", dst: CLIENT })
      .tcp({ sport: 8080, dport: 40000, flags: "SA" })
      .build();
    e.frame(1, synack, synack.length, 0);
    const [back] = tx.take();
    expect(back.ifIdx).toBe(0);
    expect(hexMac(back.frame, 0)).toEqual(mac(MAC_CLIENT));
    expect(hexMac(back.frame, 6)).toEqual(mac(VMAC_ETH0));
  });
});

describe("unicast filter of the sockets", () => {
  class FakeSocket {
    readonly ifname = "eth0";
    readonly calls: string[] = [];
    refuse = false;
    addUnicast(m: Uint8Array) {
      if (this.refuse) throw new Error("setsockopt(PACKET_ADD_MEMBERSHIP): EINVAL");
      this.calls.push(`add ${formatMac(m)}`);
    }
    dropUnicast(m: Uint8Array) {
      this.calls.push(`drop ${formatMac(m)}`);
      return true;
    }
    addPromisc() {
      this.calls.push("promisc");
    }
  }
  const m = (t: string) => Uint8Array.from(mac(t));

  test("follows the wanted MACs: adds new ones, drops gone ones, nothing for unchanged", () => {
    const s = new FakeSocket();
    const logs: string[] = [];
    const f = new UnicastFilter(s, (_l, msg) => logs.push(msg));
    f.sync([m(VMAC_ETH0)]);
    f.sync([m(VMAC_ETH0), m(VRRP_51)]);
    f.sync([m(VRRP_51)]);
    f.sync([]);
    expect(s.calls).toEqual([`add ${VMAC_ETH0}`, `add ${VRRP_51}`, `drop ${VMAC_ETH0}`, `drop ${VRRP_51}`]);
    expect(f.macs()).toEqual([]);
    expect(logs).toEqual([]);
  });

  test("a device refusing unicast addresses: promiscuous once, with a warning", () => {
    const s = new FakeSocket();
    s.refuse = true;
    const logs: string[] = [];
    const f = new UnicastFilter(s, (level, msg) => logs.push(`${level} ${msg}`));
    f.sync([m(VMAC_ETH0), m(VRRP_51)]);
    expect(s.calls).toEqual(["promisc"]);
    expect(logs.length).toBe(1);
    expect(logs[0]).toStartWith(`warning eth0: unicast filter refused ${VMAC_ETH0}`);
  });
});

describe("uvs run --vip-mac", () => {
  const base = ["--dataplane", "packet", "--interface", "eth0"];
  test("virtual or real on the packet plane; anything else, or on the proxy plane, is an error", () => {
    expect((parseRunArgs([...base, "--vip-mac", "real"], undefined) as RunOptions).vipMac).toBe("real");
    expect((parseRunArgs([...base, "--vip-mac=virtual"], undefined) as RunOptions).vipMac).toBe("virtual");
    expect((parseRunArgs(base, undefined) as RunOptions).vipMac).toBeUndefined();
    expect(parseRunArgs([...base, "--vip-mac", "vrrp"], undefined)).toBe(
      'uvs run: --vip-mac "vrrp": expected virtual or real\n',
    );
    expect(parseRunArgs(["--vip-mac", "real"], undefined)).toBe(
      "uvs run: --interface, --auto-sysctl and --vip-mac belong to --dataplane packet\n",
    );
  });

  test("UVS_VIP_MAC: empty or unset is virtual; a bad value names where it came from", () => {
    expect(vipMacMode(undefined)).toBe("virtual");
    expect(vipMacMode("")).toBe("virtual");
    expect(vipMacMode("real")).toBe("real");
    expect(() => vipMacMode("REAL")).toThrow(
      'vip MAC mode "REAL": expected virtual or real (--vip-mac, UVS_VIP_MAC)',
    );
  });
});
