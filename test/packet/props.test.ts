/** fast-check properties of the codecs: no input throws, rewrites are reversible and exact. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  csumReplace16,
  csumReplace32,
  internetChecksum,
  rd16,
  rd32,
  wr16,
  wr32,
} from "../../src/dataplane/packet/checksum.ts";
import { classify, VERDICT_NAMES } from "../../src/dataplane/packet/classify.ts";
import { FrameView, parse, parseFrame, VERIFY_L4 } from "../../src/dataplane/packet/frame.ts";
import { buildFragNeeded } from "../../src/dataplane/packet/icmp.ts";
import { REASON_COUNTERS, Reason } from "../../src/dataplane/packet/reasons.ts";
import {
  completeL4Checksum,
  encapIpip,
  encapIpipFragments,
  natDstV4,
  natDstV6,
  natSrcV4,
  natSrcV6,
  TUN_FRAG_NEEDED,
  TUN_TOO_BIG,
} from "../../src/dataplane/packet/rewrite.ts";
import { hex, ip6, pkt, refChecksum } from "./pkt.ts";

const dotted = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const port = fc.integer({ min: 0, max: 0xffff });
const v6addr = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
  .map((g) => g.map((x) => x.toString(16)).join(":"));
const payload = fc.uint8Array({ maxLength: 300 });
const tcpFlags = fc.integer({ min: 0, max: 63 });

interface FlowSpec {
  udp: boolean;
  src: number;
  dst: number;
  sport: number;
  dport: number;
  flags: number;
  data: Uint8Array;
  ttl: number;
}
const flow4: fc.Arbitrary<FlowSpec> = fc.record({
  udp: fc.boolean(),
  src: u32,
  dst: u32,
  sport: port,
  dport: port,
  flags: tcpFlags,
  data: payload,
  ttl: fc.integer({ min: 2, max: 255 }),
});
function build4(f: FlowSpec, over: Partial<FlowSpec> = {}): Uint8Array {
  const g = { ...f, ...over };
  const b = pkt()
    .eth()
    .ipv4({ src: dotted(g.src), dst: dotted(g.dst), ttl: g.ttl });
  const l4 = g.udp
    ? b.udp({ sport: g.sport, dport: g.dport })
    : b.tcp({ sport: g.sport, dport: g.dport, flags: g.flags });
  return l4.payload(g.data).build();
}

const ANY_CTX = { isVipV4: (a: number) => (a & 1) === 0, lookup: () => false, parseFlags: VERIFY_L4 };

describe("no input throws", () => {
  test("random bytes: parseFrame and classify return a known reason and verdict", () => {
    const v = new FrameView();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(300), (bytes, len) => {
        const r = parseFrame(bytes, len, v, VERIFY_L4);
        expect(r in REASON_COUNTERS).toBe(true);
        const verdict = classify(bytes, bytes.length, v, ANY_CTX);
        expect(VERDICT_NAMES[verdict]).toBeDefined();
      }),
      { numRuns: 3000 },
    );
  });
  test("random bytes behind a valid Ethernet header of each EtherType (gets past L2)", () => {
    const v = new FrameView();
    const types = [
      [8, 0],
      [0x86, 0xdd],
      [8, 6],
      [0x81, 0],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 120 }), (t, body) => {
        const f = Uint8Array.from([...new Uint8Array(12), ...t, ...body]);
        if (body.length > 0) f[14] = (f[14] & 15) | (t[0] === 0x86 ? 0x60 : 0x40);
        const verdict = classify(f, f.length, v, ANY_CTX);
        expect(VERDICT_NAMES[verdict]).toBeDefined();
      }),
      { numRuns: 3000 },
    );
  });
  test("valid frames mutated (byte flips, truncation) never throw, and rewrites on them do not throw", () => {
    const v = new FrameView();
    const out = new Uint8Array(2048);
    fc.assert(
      fc.property(
        flow4,
        fc.array(fc.tuple(fc.nat(400), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(400),
        (f, flips, cut) => {
          const frame = build4(f);
          for (const [i, b] of flips) if (i < frame.length) frame[i] = b;
          const len = Math.min(frame.length, cut + 14);
          classify(frame, len, v, { ...ANY_CTX, lookup: () => true });
          if (v.reason === Reason.OK && v.ipVersion === 4 && (v.proto === 6 || v.proto === 17)) {
            natDstV4(v, 0x0a00000b, 8080);
            encapIpip(v, out, { dstMac: out, srcMac: out, saddr: 1, daddr: 2, mtu: 576, id: 0 });
            buildFragNeeded(v, out, 556);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("NAT rewrites", () => {
  test("natDstV4 equals the frame built with the new destination (incremental = full recompute)", () => {
    fc.assert(
      fc.property(flow4, u32, port, (f, rip, rport) => {
        const v = parse(build4(f), undefined, VERIFY_L4);
        expect(v.reason).toBe(Reason.OK);
        natDstV4(v, rip, rport);
        expect(hex(v.buf)).toBe(hex(build4(f, { dst: rip, dport: rport })));
      }),
      { numRuns: 1000 },
    );
  });
  test("natSrcV4 equals the frame built with the new source", () => {
    fc.assert(
      fc.property(flow4, u32, port, (f, vip, vport) => {
        const v = parse(build4(f));
        natSrcV4(v, vip, vport);
        expect(hex(v.buf)).toBe(hex(build4(f, { src: vip, sport: vport })));
      }),
      { numRuns: 1000 },
    );
  });
  test("NAT in then its reverse gives back the original bytes and checksums (IPv4)", () => {
    fc.assert(
      fc.property(flow4, u32, port, u32, port, (f, rip, rport, cip, cport) => {
        const orig = build4(f);
        const v = parse(orig.slice());
        natDstV4(v, rip, rport);
        natSrcV4(v, cip, cport);
        natSrcV4(v, f.src, f.sport);
        natDstV4(v, f.dst, f.dport);
        expect(hex(v.buf)).toBe(hex(orig));
        expect(parse(v.buf, undefined, VERIFY_L4).reason).toBe(Reason.OK);
      }),
      { numRuns: 1000 },
    );
  });
  test("IPv6 NAT equals the frame built with the new address, and reverses exactly", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        v6addr,
        v6addr,
        v6addr,
        port,
        port,
        payload,
        (udp, src, dst, rip, dport, rport, data) => {
          const mk = (d: string, p: number) => {
            const b = pkt().eth().ipv6({ src, dst: d });
            return (udp ? b.udp({ dport: p }) : b.tcp({ dport: p })).payload(data).build();
          };
          const orig = mk(dst, dport);
          const v = parse(orig.slice(), undefined, VERIFY_L4);
          expect(v.reason).toBe(Reason.OK);
          natDstV6(v, Uint8Array.from(ip6(rip)), rport);
          expect(hex(v.buf)).toBe(hex(mk(rip, rport)));
          natDstV6(v, Uint8Array.from(ip6(dst)), dport);
          expect(hex(v.buf)).toBe(hex(orig));
          natSrcV6(v, Uint8Array.from(ip6(rip)), rport);
          expect(parse(v.buf, undefined, VERIFY_L4).reason).toBe(Reason.OK);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("checksums", () => {
  const header = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((h) => {
    h[0] = 0x45;
    h[10] = 0;
    h[11] = 0;
    const c = refChecksum(h);
    h[10] = c >> 8;
    h[11] = c & 255;
    return h;
  });
  test("replacing a 16-bit word incrementally equals recomputing the header checksum", () => {
    fc.assert(
      fc.property(header, fc.constantFrom(0, 2, 4, 6, 8, 12, 14, 16, 18), port, (h, at, now) => {
        const c = csumReplace16(rd16(h, 10), rd16(h, at), now);
        wr16(h, at, now);
        wr16(h, 10, 0);
        expect(c).toBe(refChecksum(h));
        expect(internetChecksum(h, 0, 20)).toBe(c);
      }),
      { numRuns: 2000 },
    );
  });
  test("replacing a 32-bit address incrementally equals recomputing", () => {
    fc.assert(
      fc.property(header, fc.constantFrom(12, 16), u32, (h, at, now) => {
        const c = csumReplace32(rd16(h, 10), rd32(h, at), now);
        wr32(h, at, now);
        wr16(h, 10, 0);
        expect(c).toBe(refChecksum(h));
      }),
      { numRuns: 2000 },
    );
  });
  test("completing a CHECKSUM_PARTIAL frame equals the full computation", () => {
    fc.assert(
      fc.property(flow4, fc.boolean(), (f, v6) => {
        const mk = (partial: boolean) => {
          let b = v6
            ? pkt().eth().ipv6()
            : pkt()
                .eth()
                .ipv4({ src: dotted(f.src), dst: dotted(f.dst) });
          b = f.udp
            ? b.udp({ sport: f.sport, dport: f.dport })
            : b.tcp({ sport: f.sport, dport: f.dport, flags: f.flags });
          b = b.payload(f.data);
          return (partial ? b.partialChecksum() : b).build();
        };
        const v = parse(mk(true));
        completeL4Checksum(v);
        expect(hex(v.buf)).toBe(hex(mk(false)));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("TUN", () => {
  test("the encapsulated frame parses as IPIP and carries the inner datagram unchanged; oversize follows DF", () => {
    const out = new Uint8Array(2048);
    fc.assert(
      fc.property(flow4, fc.boolean(), fc.integer({ min: 68, max: 1500 }), (f, df, mtu) => {
        const b = pkt()
          .eth()
          .ipv4({ src: dotted(f.src), dst: dotted(f.dst), df })
          .udp()
          .payload(f.data);
        const v = parse(b.build());
        const inner = v.buf.slice(v.l3Off, v.ipEnd);
        const n = encapIpip(v, out, { dstMac: out, srcMac: out, saddr: 1, daddr: 2, mtu, id: 7 });
        if (inner.length + 20 > mtu) {
          expect(n).toBe(df ? TUN_FRAG_NEEDED : TUN_TOO_BIG);
          return;
        }
        const o = parse(out.slice(0, n));
        expect([o.reason, o.proto, o.saddr, o.daddr, o.df]).toEqual([
          Reason.UNSUPPORTED_PROTOCOL,
          4,
          1,
          2,
          df,
        ]);
        expect(hex(o.buf.subarray(o.l4Off, o.ipEnd))).toBe(hex(inner));
      }),
      { numRuns: 500 },
    );
  });
  test("outer fragments each fit the MTU, carry valid headers and reassemble to the inner datagram", () => {
    fc.assert(
      fc.property(flow4, fc.integer({ min: 28, max: 400 }), (f, mtu) => {
        const v = parse(pkt().eth().ipv4({ df: false }).udp().payload(f.data).build());
        const outs = Array.from({ length: 64 }, () => new Uint8Array(600));
        const lens: number[] = [];
        const n = encapIpipFragments(v, outs, lens, {
          dstMac: outs[0],
          srcMac: outs[0],
          saddr: 1,
          daddr: 2,
          mtu,
          id: 9,
        });
        expect(n).toBeGreaterThan(0);
        const parts: number[] = [];
        for (let i = 0; i < n; i++) {
          const fr = parse(outs[i], lens[i]);
          expect(fr.reason).toBe(i === n - 1 && i === 0 ? Reason.UNSUPPORTED_PROTOCOL : Reason.FRAGMENT);
          expect(fr.ipEnd - fr.l3Off).toBeLessThanOrEqual(mtu);
          expect((rd16(fr.buf, fr.l3Off + 6) & 0x1fff) << 3 === parts.length).toBe(true);
          parts.push(...fr.buf.subarray(fr.l4Off, fr.ipEnd));
        }
        expect(hex(Uint8Array.from(parts))).toBe(hex(v.buf.subarray(v.l3Off, v.ipEnd)));
      }),
      { numRuns: 300 },
    );
  });
});
