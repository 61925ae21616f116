/** Parsing and classification, one test per field and per reason a frame is dropped. */
import { describe, expect, test } from "bun:test";
import { TcpEvent } from "../../src/conntrack/states.ts";
import {
  csumAdd,
  csumFold,
  csumReplace16,
  csumReplace32,
  internetChecksum,
} from "../../src/dataplane/packet/checksum.ts";
import {
  type ClassifyContext,
  classify,
  DIR_IN,
  DIR_OUT,
  VERDICT_NAMES,
  Verdict,
} from "../../src/dataplane/packet/classify.ts";
import { formatMac, parseMac } from "../../src/dataplane/packet/ethernet.ts";
import { FrameView, parse, VERIFY_L4 } from "../../src/dataplane/packet/frame.ts";
import { REASON_COUNTERS, Reason, reasonCounter } from "../../src/dataplane/packet/reasons.ts";
import { completeL4Checksum, refreshL4Checksum } from "../../src/dataplane/packet/rewrite.ts";
import { tcpCanCreate, tcpEvent } from "../../src/dataplane/packet/tcp.ts";
import { hex, ip4u, pkt } from "./pkt.ts";

const VIP = "192.0.2.10";
const RIP = "10.0.0.11";
const CLIENT = "203.0.113.7";

/** A context with one VIP and a set of known flows keyed "dir saddr:sport". */
function ctx(known: string[] = [], flags = VERIFY_L4): ClassifyContext & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    isVipV4: (a) => a === ip4u(VIP),
    lookup: (v, dir) => {
      const k = `${dir} ${v.saddr}:${v.sport}`;
      asked.push(k);
      return known.includes(k);
    },
    parseFlags: flags,
  };
}

function run(frame: Uint8Array, c = ctx()): { verdict: string; reason: string; v: FrameView } {
  const v = new FrameView();
  const verdict = classify(frame, frame.length, v, c);
  return { verdict: VERDICT_NAMES[verdict], reason: reasonCounter(v.reason), v };
}

describe("checksum", () => {
  test("RFC 1071 §3 numerical example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2", () => {
    const b = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(csumFold(csumAdd(b, 0, 8))).toBe(0xddf2);
    expect(internetChecksum(b, 0, 8)).toBe(0x220d);
  });
  test("an odd trailing byte is padded with zero on the right", () => {
    expect(internetChecksum(Uint8Array.of(0x12, 0x34, 0x56), 0, 3)).toBe(~(0x1234 + 0x5600) & 0xffff);
  });
  test("RFC 1624 §4 example: eqn. 3 gives 0x0000 where eqn. 2 gave 0xffff", () => {
    expect(csumReplace16(0xdd2f, 0x5555, 0x3285)).toBe(0x0000);
  });
  test("a 32-bit replace equals two 16-bit replaces", () => {
    const c = 0x1c46;
    expect(csumReplace32(c, 0xc0a80001, 0x0a00000b)).toBe(
      csumReplace16(csumReplace16(c, 0xc0a8, 0x0a00), 0x0001, 0x000b),
    );
  });
});

describe("parseFrame fields", () => {
  test("TCP SYN: addresses, ports, flags, offsets", () => {
    const v = parse(
      pkt().eth().ipv4({ ttl: 33 }).tcp({ sport: 1234, dport: 80, flags: "S" }).build(),
      undefined,
      VERIFY_L4,
    );
    expect(v.reason).toBe(Reason.OK);
    expect([v.ipVersion, v.l3Off, v.l4Off, v.ttl, v.proto]).toEqual([4, 14, 34, 33, 6]);
    expect([v.saddr, v.daddr, v.sport, v.dport, v.tcpFlags]).toEqual([ip4u(CLIENT), ip4u(VIP), 1234, 80, 2]);
    expect(v.df).toBe(true);
  });
  test("an 802.1Q tag shifts L3 by 4 and is reported", () => {
    const v = parse(pkt().eth({ vlan: 7 }).ipv4().udp().build());
    expect([v.reason, v.vlan, v.l3Off, v.dport]).toEqual([Reason.OK, 7, 18, 53]);
  });
  test("Ethernet padding after a short datagram is not part of it", () => {
    const f = pkt().eth().ipv4().tcp({ flags: "A" }).build(); // 54 bytes
    const padded = new Uint8Array(60);
    padded.set(f);
    padded.fill(0xee, 54);
    const v = parse(padded, 60, VERIFY_L4);
    expect([v.reason, v.ipEnd, v.l4Len]).toEqual([Reason.OK, 54, 20]);
  });
  test("IPv6: hop limit as ttl, address offsets, UDP ports", () => {
    const v = parse(
      pkt().eth().ipv6({ hopLimit: 9 }).udp({ sport: 1, dport: 2 }).payload("x").build(),
      undefined,
      VERIFY_L4,
    );
    expect([v.reason, v.ipVersion, v.ttl, v.saddrOff, v.daddrOff, v.l4Off, v.sport, v.dport]).toEqual([
      Reason.OK,
      6,
      9,
      22,
      38,
      54,
      1,
      2,
    ]);
  });
  test("the view is reused: a second parse overwrites the first", () => {
    const v = new FrameView();
    classify(
      pkt().eth().ipv4().icmp({ type: 3, code: 1 }).payload(pkt().ipv4().udp().build().subarray(14)).build(),
      1000,
      v,
      ctx(),
    );
    expect(v.innerProto).toBe(17);
    classify(pkt().eth().ipv4().tcp().build(), 54, v, ctx());
    expect([v.innerProto, v.icmpType, v.proto]).toEqual([-1, -1, 6]);
  });
  test("MAC text round trip", () => {
    expect(formatMac(parseMac("02:AB:cd:00:00:11")!)).toBe("02:ab:cd:00:00:11");
    expect(parseMac("02:ab:cd:00:00")).toBeNull();
  });
});

describe("classify verdicts", () => {
  test("TCP SYN to a VIP with no connection → new flow (after one DIR_IN lookup)", () => {
    const c = ctx();
    expect(run(pkt().eth().ipv4().tcp({ flags: "S" }).build(), c).verdict).toBe("new_flow");
    expect(c.asked).toEqual([`${DIR_IN} ${ip4u(CLIENT)}:40000`]);
  });
  test("UDP to a VIP with no connection → new flow", () => {
    expect(run(pkt().eth().ipv4().udp().build()).verdict).toBe("new_flow");
  });
  test("ACK of a known connection → in flow", () => {
    const f = pkt().eth().ipv4().tcp({ flags: "A" }).build();
    expect(run(f, ctx([`${DIR_IN} ${ip4u(CLIENT)}:40000`])).verdict).toBe("in_flow");
  });
  test("ACK to a VIP without a connection → ignored, no_flow", () => {
    expect(run(pkt().eth().ipv4().tcp({ flags: "A" }).build())).toMatchObject({
      verdict: "ignore",
      reason: "frames_no_flow",
    });
  });
  test("SYN+RST never creates a flow; SYN+ACK may (IPVS active FTP)", () => {
    expect(run(pkt().eth().ipv4().tcp({ flags: "SR" }).build()).reason).toBe("frames_no_flow");
    expect(run(pkt().eth().ipv4().tcp({ flags: "SA" }).build()).verdict).toBe("new_flow");
  });
  test("a real server's reply of a known NAT flow → out flow (DIR_OUT lookup)", () => {
    const f = pkt()
      .eth()
      .ipv4({ src: RIP, dst: CLIENT })
      .tcp({ sport: 8080, dport: 40000, flags: "SA" })
      .build();
    expect(run(f, ctx([`${DIR_OUT} ${ip4u(RIP)}:8080`])).verdict).toBe("out_flow");
    expect(run(f).reason).toBe("frames_not_ours");
  });
  test("ARP request for a VIP → arp_vip; for another address, a reply, or an announcement → ignored", () => {
    const req = (spa: string, tpa: string, op = 1) => pkt().eth().arp({ spa, tpa, op }).build();
    expect(run(req("192.0.2.1", VIP)).verdict).toBe("arp_vip");
    expect(run(req("0.0.0.0", VIP)).verdict).toBe("arp_vip"); // RFC 5227 probe: defend the address
    expect(run(req("192.0.2.1", "192.0.2.99")).reason).toBe("frames_arp_not_for_vip");
    expect(run(req("192.0.2.1", VIP, 2)).reason).toBe("frames_arp_not_for_vip");
    expect(run(req(VIP, VIP)).reason).toBe("frames_arp_not_for_vip");
  });
  test("ICMP error embedding a UDP packet VIP:53 → client → icmp_error with the embedded key", () => {
    const quoted = pkt()
      .ipv4({ src: VIP, dst: CLIENT })
      .udp({ sport: 53, dport: 5353 })
      .payload("r")
      .build()
      .subarray(14);
    const r = run(pkt().eth().ipv4().icmp({ type: 3, code: 3 }).payload(quoted).build());
    expect(r.verdict).toBe("icmp_error");
    expect([r.v.innerProto, r.v.innerSaddr, r.v.innerSport, r.v.innerDaddr, r.v.innerDport]).toEqual([
      17,
      ip4u(VIP),
      53,
      ip4u(CLIENT),
      5353,
    ]);
  });
  test("ICMPv6 error: embedded IPv6 TCP key", () => {
    const quoted = pkt()
      .ipv6({ src: "2001:db8::10", dst: "2001:db8:c::7" })
      .tcp({ sport: 80, dport: 999 })
      .build()
      .subarray(14);
    const r = run(pkt().eth().ipv6().icmp({ type: 1, code: 4 }).payload(quoted).build());
    expect([r.verdict, r.v.innerProto, r.v.innerSport, r.v.innerDport]).toEqual(["icmp_error", 6, 80, 999]);
  });
});

describe("classify drops, each with its counter", () => {
  const base = () => pkt().eth().ipv4().tcp({ flags: "S" });
  const cases: [string, Uint8Array, string][] = [
    ["runt Ethernet header", base().build().subarray(0, 13), "frames_truncated"],
    ["IPv4 header cut", base().build().subarray(0, 30), "frames_truncated"],
    ["TCP header cut (total length says more)", base().build().subarray(0, 50), "frames_truncated"],
    ["VLAN tag cut", pkt().eth({ vlan: 3 }).ipv4().build().subarray(0, 16), "frames_truncated"],
    ["ARP cut", pkt().eth().arp({ spa: "1.2.3.4", tpa: VIP }).build().subarray(0, 40), "frames_truncated"],
    [
      "IPv6 payload length past the frame",
      pkt().eth().ipv6().udp().build().subarray(0, 60),
      "frames_truncated",
    ],
    ["bad IPv4 header checksum", base().corruptIpChecksum().build(), "frames_bad_ip_checksum"],
    ["bad TCP checksum", base().corruptL4Checksum().build(), "frames_bad_l4_checksum"],
    ["bad UDP checksum", pkt().eth().ipv4().udp().corruptL4Checksum().build(), "frames_bad_l4_checksum"],
    [
      "bad ICMP checksum",
      pkt().eth().ipv4().icmp({ type: 8 }).corruptL4Checksum().build(),
      "frames_bad_l4_checksum",
    ],
    ["first fragment (MF)", pkt().eth().ipv4({ mf: true }).tcp().build(), "frames_fragment"],
    ["later fragment", pkt().eth().ipv4({ fragOffset: 185 }).payload("abcdefgh").build(), "frames_fragment"],
    [
      "IPv6 Fragment header",
      pkt()
        .eth()
        .ipv6({ ext: [44] })
        .udp()
        .build(),
      "frames_fragment",
    ],
    [
      "IPv4 options (router alert)",
      pkt()
        .eth()
        .ipv4({ options: [148, 4, 0, 0] })
        .tcp()
        .build(),
      "frames_ip_options",
    ],
    [
      "IPv6 Hop-by-Hop header",
      pkt()
        .eth()
        .ipv6({ ext: [0] })
        .udp()
        .build(),
      "frames_ip_options",
    ],
    ["TTL 0 to a VIP", pkt().eth().ipv4({ ttl: 0 }).tcp().build(), "frames_ttl_expired"],
    [
      "TTL 1 to be routed on",
      pkt().eth().ipv4({ ttl: 1, src: RIP, dst: CLIENT }).tcp().build(),
      "frames_ttl_expired",
    ],
    [
      "LLDP EtherType",
      Uint8Array.from([...new Uint8Array(12), 0x88, 0xcc, 1, 2, 3]),
      "frames_unsupported_ethertype",
    ],
    ["GRE", pkt().eth().ipv4({ proto: 47 }).payload("0000").build(), "frames_unsupported_protocol"],
    [
      "IPv4 version 5",
      (() => {
        const f = base().build();
        f[14] = 0x55;
        return f;
      })(),
      "frames_malformed",
    ],
    [
      "IHL 4",
      (() => {
        const f = base().build();
        f[14] = 0x44;
        return f;
      })(),
      "frames_malformed",
    ],
    [
      "TCP data offset 4",
      (() => {
        const f = base().build();
        f[46] = 0x40;
        return f;
      })(),
      "frames_malformed",
    ],
    [
      "UDP length 7",
      (() => {
        const f = pkt().eth().ipv4().udp({ noChecksum: true }).build();
        f[39] = 7;
        return f;
      })(),
      "frames_malformed",
    ],
    ["ICMP echo", pkt().eth().ipv4().icmp({ type: 8 }).build(), "frames_icmp_not_error"],
    [
      "ICMP error quoting too little",
      pkt().eth().ipv4().icmp({ type: 3 }).payload([0x45, 0, 0]).build(),
      "frames_icmp_no_flow",
    ],
  ];
  for (const [name, frame, counter] of cases) {
    test(`${name} → ${counter}`, () => {
      expect(run(frame)).toMatchObject({ verdict: "ignore", reason: counter });
    });
  }
  test("TTL 1 addressed to the VIP is still served (the VIP is its destination)", () => {
    expect(run(pkt().eth().ipv4({ ttl: 1 }).tcp().build()).verdict).toBe("new_flow");
  });
  test("without VERIFY_L4 a bad L4 checksum is not looked at (CHECKSUM_PARTIAL frames)", () => {
    expect(run(pkt().eth().ipv4().tcp().corruptL4Checksum().build(), ctx([], 0)).verdict).toBe("new_flow");
  });
  test("a UDP checksum of zero means none over IPv4 but is invalid over IPv6", () => {
    expect(run(pkt().eth().ipv4().udp({ noChecksum: true }).build()).verdict).toBe("new_flow");
    const f = pkt().eth().ipv6().udp().build();
    f[60] = 0;
    f[61] = 0;
    expect(run(f).reason).toBe("frames_bad_l4_checksum");
  });
  test("every reason has its own counter name", () => {
    const codes = Object.values(Reason);
    expect(new Set(codes.map(reasonCounter)).size).toBe(codes.length);
    expect(REASON_COUNTERS.length).toBe(codes.length);
    expect(reasonCounter(99)).toBe("frames_unknown");
  });
  test("verdict names line up with the codes", () => {
    expect(VERDICT_NAMES[Verdict.ICMP_ERROR]).toBe("icmp_error");
    expect(VERDICT_NAMES[Verdict.NEW_FLOW]).toBe("new_flow");
  });
});

describe("TCP state events for the IPVS table", () => {
  const ev = (flags: string) => tcpEvent(parse(pkt().eth().ipv4().tcp({ flags }).build()));
  test("priority RST > SYN > FIN > ACK, none → null", () => {
    expect([ev("RSA"), ev("SA"), ev("FA"), ev("A"), ev("P")]).toEqual([
      TcpEvent.RST,
      TcpEvent.SYN,
      TcpEvent.FIN,
      TcpEvent.ACK,
      null,
    ]);
  });
  test("tcpCanCreate: SYN without RST", () => {
    const can = (flags: string) => tcpCanCreate(parse(pkt().eth().ipv4().tcp({ flags }).build()));
    expect([can("S"), can("SA"), can("SR"), can("A")]).toEqual([true, true, false, false]);
  });
});

describe("CHECKSUM_PARTIAL frames", () => {
  for (const [name, b] of [
    ["TCP/IPv4", () => pkt().eth().ipv4().tcp({ flags: "PA" }).payload("hello world")],
    ["UDP/IPv4", () => pkt().eth().ipv4().udp().payload("odd")],
    ["TCP/IPv6", () => pkt().eth().ipv6().tcp().payload("v6!")],
  ] as const) {
    test(`${name}: completing the pseudo-header sum gives the full checksum`, () => {
      const full = b().build();
      const partial = b().partialChecksum().build();
      expect(hex(partial)).not.toBe(hex(full));
      const v = parse(partial);
      expect(parse(partial, undefined, VERIFY_L4).reason).toBe(Reason.BAD_L4_CHECKSUM);
      completeL4Checksum(v);
      expect(hex(v.buf)).toBe(hex(full));
    });
  }
  test("refreshL4Checksum computes it from scratch whatever the field held", () => {
    const full = pkt().eth().ipv4().tcp().payload("x").build();
    const v = parse(pkt().eth().ipv4().tcp().payload("x").corruptL4Checksum().build());
    refreshL4Checksum(v);
    expect(hex(v.buf)).toBe(hex(full));
  });
});
