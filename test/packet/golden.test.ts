/**
 * Golden frames: input → rewrite → expected bytes, with expectations built by
 * test/packet/fixtures/golden.py (Python struct + its own RFC 1071 checksum), not by the codecs.
 */
import { describe, expect, test } from "bun:test";
import { buildArpReply, buildGratuitousArp } from "../../src/dataplane/packet/arp.ts";
import { parseMac } from "../../src/dataplane/packet/ethernet.ts";
import { parse, VERIFY_L4 } from "../../src/dataplane/packet/frame.ts";
import { buildFragNeeded, buildPacketTooBig } from "../../src/dataplane/packet/icmp.ts";
import { Reason } from "../../src/dataplane/packet/reasons.ts";
import {
  encapIpip,
  encapIpipFragments,
  natDstV4,
  natDstV6,
  natIcmpInV4,
  natIcmpOutV4,
  natSrcV4,
  rewriteDr,
  TUN_TOO_BIG,
} from "../../src/dataplane/packet/rewrite.ts";
import golden from "./fixtures/golden.json";
import { hex, ip4u, ip6, pkt, unhex } from "./pkt.ts";

interface Case {
  name: string;
  input: string;
  expected: string | string[];
  params: Record<string, string | number>;
}
const cases = new Map((golden as unknown as Case[]).map((c) => [c.name, c]));
function get(name: string): Case {
  const c = cases.get(name);
  if (!c) throw new Error(`Missing golden case "${name}"`);
  return c;
}
const macP = (c: Case, k: string) => parseMac(String(c.params[k]))!;
const ipP = (c: Case, k: string) => ip4u(String(c.params[k]));
const num = (c: Case, k: string) => Number(c.params[k]);

/** Parse the input (checksums verified, must be OK), apply `f` in place, return the frame hex. */
function inPlace(name: string, f: (v: ReturnType<typeof parse>, c: Case) => void): [string, string] {
  const c = get(name);
  const v = parse(unhex(c.input), undefined, VERIFY_L4);
  expect(v.reason).toBe(Reason.OK);
  f(v, c);
  return [hex(v.buf), c.expected as string];
}

describe("golden rewrites (expected frames from golden.py)", () => {
  test("DR rewrites only the MACs", () => {
    const [got, want] = inPlace("dr tcp syn", (v, c) => rewriteDr(v, macP(c, "dstMac"), macP(c, "srcMac")));
    expect(got).toBe(want);
  });
  for (const name of ["nat in tcp", "nat in udp 60-byte frame"]) {
    test(`NAT in: ${name}`, () => {
      const [got, want] = inPlace(name, (v, c) => {
        rewriteDr(v, macP(c, "dstMac"), macP(c, "srcMac"));
        natDstV4(v, ipP(c, "addr"), num(c, "port"));
      });
      expect(got).toBe(want);
    });
  }
  test("NAT out: a real server's SYN-ACK leaves as VIP:80", () => {
    const [got, want] = inPlace("nat out tcp syn-ack", (v, c) => {
      rewriteDr(v, macP(c, "dstMac"), macP(c, "srcMac"));
      natSrcV4(v, ipP(c, "addr"), num(c, "port"));
    });
    expect(got).toBe(want);
  });
  test("NAT in over IPv6 (UDP checksum over the IPv6 pseudo-header)", () => {
    const [got, want] = inPlace("nat in udp ipv6", (v, c) => {
      rewriteDr(v, macP(c, "dstMac"), macP(c, "srcMac"));
      natDstV6(v, Uint8Array.from(ip6(String(c.params.addr6))), num(c, "port"));
    });
    expect(got).toBe(want);
  });
  test("NAT: an ICMP error toward the VIP follows its flow to the real server", () => {
    const [got, want] = inPlace("nat icmp error in", (v, c) => {
      expect(v.innerProto).toBe(17);
      rewriteDr(v, macP(c, "dstMac"), macP(c, "srcMac"));
      natIcmpInV4(v, ipP(c, "addr"), num(c, "port"));
    });
    expect(got).toBe(want);
  });
  test("NAT: an ICMP error from the real server leaves with the VIP inside and out", () => {
    const [got, want] = inPlace("nat icmp error out", (v, c) => {
      rewriteDr(v, macP(c, "dstMac"), macP(c, "srcMac"));
      natIcmpOutV4(v, ipP(c, "addr"), num(c, "port"));
    });
    expect(got).toBe(want);
  });
});

function tunParams(c: Case) {
  return {
    dstMac: macP(c, "dstMac"),
    srcMac: macP(c, "srcMac"),
    saddr: ipP(c, "saddr"),
    daddr: ipP(c, "daddr"),
    mtu: num(c, "mtu"),
    id: num(c, "id"),
  };
}

describe("golden TUN and ICMP errors", () => {
  test("TUN: IPIP with a fresh outer header (DF, TTL, TOS from the inner one)", () => {
    const c = get("tun ipip");
    const v = parse(unhex(c.input));
    const out = new Uint8Array(2048);
    const n = encapIpip(v, out, tunParams(c));
    expect(hex(out.subarray(0, n))).toBe(c.expected as string);
  });
  test("TUN: DF clear and too big → the outer datagram is fragmented", () => {
    const c = get("tun ipip fragmented (DF clear, mtu 84)");
    const v = parse(unhex(c.input));
    const p = tunParams(c);
    expect(encapIpip(v, new Uint8Array(2048), p)).toBe(TUN_TOO_BIG);
    const outs = [new Uint8Array(200), new Uint8Array(200), new Uint8Array(200)];
    const lens: number[] = [];
    const n = encapIpipFragments(v, outs, lens, p);
    expect(outs.slice(0, n).map((o, i) => hex(o.subarray(0, lens[i])))).toEqual(c.expected as string[]);
  });
  test("ICMP fragmentation needed quotes 548 bytes and advertises the next-hop MTU", () => {
    const c = get("frag needed for a 1500-byte DF packet, tunnel mtu 1500");
    const v = parse(unhex(c.input));
    const out = new Uint8Array(2048);
    const n = buildFragNeeded(v, out, num(c, "mtu"));
    expect(hex(out.subarray(0, n))).toBe(c.expected as string);
  });
  test("ICMPv6 packet too big quotes up to the 1280-byte minimum MTU", () => {
    const c = get("packet too big ipv6");
    const v = parse(unhex(c.input));
    const out = new Uint8Array(2048);
    const n = buildPacketTooBig(v, out, num(c, "mtu"));
    expect(hex(out.subarray(0, n))).toBe(c.expected as string);
  });
});

describe("golden ARP", () => {
  test("an ARP request for the VIP gets a unicast reply with our MAC", () => {
    const c = get("arp reply for a VIP");
    const v = parse(unhex(c.input));
    const out = new Uint8Array(64);
    const n = buildArpReply(v, out, macP(c, "mac"));
    expect(hex(out.subarray(0, n))).toBe(c.expected as string);
  });
  test("gratuitous ARP (RFC 5227 announcement), untagged and on VLAN 42", () => {
    for (const name of ["gratuitous arp", "gratuitous arp vlan 42"]) {
      const c = get(name);
      const out = new Uint8Array(64);
      const vlan = c.params.vlan === undefined ? -1 : num(c, "vlan");
      const n = buildGratuitousArp(out, ipP(c, "vip"), macP(c, "mac"), vlan);
      expect(hex(out.subarray(0, n))).toBe(c.expected as string);
    }
  });
});

describe("PacketBuilder agrees with golden.py", () => {
  test("TCP SYN frame", () => {
    expect(hex(pkt().eth().ipv4().tcp({ flags: "S" }).build())).toBe(get("dr tcp syn").input);
  });
  test("60-byte UDP frame with DF clear", () => {
    const b = pkt()
      .eth()
      .ipv4({ df: false })
      .udp({ sport: 5353, dport: 53 })
      .payload(Array.from({ length: 18 }, (_, i) => i));
    expect(hex(b.build())).toBe(get("nat in udp 60-byte frame").input);
  });
  test("IPv6 UDP frame", () => {
    const b = pkt().eth().ipv6().udp().payload("abc");
    expect(hex(b.build())).toBe(get("nat in udp ipv6").input);
  });
  test("ARP request", () => {
    const b = pkt().eth({ dst: "ff:ff:ff:ff:ff:ff" }).arp({ spa: "192.0.2.1", tpa: "192.0.2.10" });
    expect(hex(b.build())).toBe(get("arp reply for a VIP").input);
  });
});
