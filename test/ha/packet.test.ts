/** The codec: spec §3.3 vectors, round trips, error reasons, and random bytes (fast-check). */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { checkDatagram, type ReceiveSettings } from "../../src/ha/vrrp-check.ts";
import { decodeIpv4, encodeIpv4 } from "../../src/ha/vrrp-frame.ts";
import {
  decodeVrrp,
  encodeVrrp,
  internetChecksum,
  passAuthData,
  VRRP_MCAST4,
  type VrrpAdvert,
} from "../../src/ha/vrrp-packet.ts";
import { ipv4FromU32, ipv6FromWords } from "../../src/model/addr.ts";
import { advertFor, hex, ip, unhex } from "./helpers.ts";

const A = ip("192.0.2.1");
const B = ip("192.0.2.2");
const VIP = ip("192.0.2.100");
const mc = { src: A, dst: VRRP_MCAST4 };

const v2 = (over: Partial<VrrpAdvert> = {}): VrrpAdvert => advertFor(VIP, over);
const v3 = (over: Partial<VrrpAdvert> = {}): VrrpAdvert => ({
  ...v2(),
  version: 3,
  authData: new Uint8Array(0),
  ...over,
});

describe("checksum vectors from spec §3.3", () => {
  const cases = [
    ["v2 B prio 100", v2(), mc, "213364010001b865c00002640000000000000000"],
    ["v2 A prio 150", v2({ priority: 150 }), mc, "213396010001 8665 c0000264 0000000000000000"],
    ["v2 prio 0", v2({ priority: 0 }), mc, "213300010001 1c66 c0000264 0000000000000000"],
    [
      "v2 PASS secret12345 → secret12",
      v2({ authType: 1, authData: passAuthData("secret12345") }),
      { src: B, dst: A },
      "213364010101 49e7 c0000264 7365637265743132",
    ],
    [
      "v3 2 VIPs, pseudo-header",
      v3({ priority: 150, addrs: [VIP, ip("192.0.2.101")] }),
      mc,
      "31339602 0064 1107 c0000264c0000265",
    ],
    [
      "v3 prio 0",
      v3({ priority: 0, addrs: [VIP, ip("192.0.2.101")] }),
      mc,
      "31330002 0064 a707 c0000264c0000265",
    ],
  ] as const;
  for (const [name, advert, ad, want] of cases) {
    test(`${name} encodes to the captured bytes`, () => {
      expect(hex(encodeVrrp(advert, ad))).toBe(want.replace(/ /g, ""));
    });
  }

  test("v3 without the pseudo-header gives 0xb39b, and the decoder accepts both forms", () => {
    const a = v3({ priority: 150, addrs: [VIP, ip("192.0.2.101")] });
    const plain = encodeVrrp(a, mc, "plain");
    expect((plain[6] << 8) | plain[7]).toBe(0xb39b);
    const d = decodeVrrp(plain, mc);
    expect(d.ok && d.checksumForm).toBe("plain");
    const p = decodeVrrp(encodeVrrp(a, mc), mc);
    expect(p.ok && p.checksumForm).toBe("pseudo");
  });

  test("the IPv4 header of the spec's first capture, header checksum included", () => {
    const pkt = encodeIpv4({ src: B, dst: VRRP_MCAST4, id: 1 }, encodeVrrp(v2(), mc));
    expect(hex(pkt.subarray(0, 20))).toBe("45c0002800010000ff701890c0000202e0000012");
    expect(internetChecksum(pkt.subarray(0, 20))).toBe(0);
  });
});

describe("decode errors", () => {
  const good = encodeVrrp(v2(), mc);
  const cases: [string, Uint8Array, string][] = [
    ["too short", good.subarray(0, 7), "short"],
    ["version 4", Uint8Array.from([0x41, ...good.subarray(1)]), "version"],
    ["type 2", Uint8Array.from([0x22, ...good.subarray(1)]), "type"],
    ["count says 2", Uint8Array.from([...good.subarray(0, 3), 2, ...good.subarray(4)]), "length"],
    ["padded", Uint8Array.from([...good, 0, 0, 0, 0]), "length"],
    ["bad checksum", Uint8Array.from([...good.subarray(0, 6), 0, 0, ...good.subarray(8)]), "checksum"],
  ];
  for (const [name, bytes, error] of cases) {
    test(`${name} → ${error}`, () => {
      const d = decodeVrrp(bytes, mc);
      expect(d.ok ? "ok" : d.error).toBe(error);
    });
  }

  test("a v3 checksum computed for another destination is refused", () => {
    const msg = encodeVrrp(v3(), { src: A, dst: B });
    const d = decodeVrrp(msg, mc);
    expect(d.ok ? "ok" : d.error).toBe("checksum");
  });

  test("the IPv4 layer refuses other protocols and truncation, and drops Ethernet padding", () => {
    const pkt = encodeIpv4({ src: A, dst: VRRP_MCAST4, id: 1 }, good);
    expect(decodeIpv4(Uint8Array.from([...pkt.subarray(0, 9), 6, ...pkt.subarray(10)])).ok).toBe(false);
    expect(decodeIpv4(pkt.subarray(0, pkt.length - 1)).ok).toBe(false);
    const padded = decodeIpv4(Uint8Array.from([...pkt, 0, 0, 0, 0, 0, 0]));
    expect(padded.ok && padded.dgram.payload.length).toBe(good.length);
  });

  test("encoding refuses values the format cannot carry", () => {
    expect(() => encodeVrrp(v2({ intervalCs: 50 }), mc)).toThrow(RangeError);
    expect(() => encodeVrrp(v3({ intervalCs: 5000 }), mc)).toThrow(RangeError);
    expect(() => encodeVrrp(v2({ vrid: 0 }), mc)).toThrow(RangeError);
  });
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const advertArb = fc.oneof(
  fc.record({
    version: fc.constant(2 as const),
    vrid: fc.integer({ min: 1, max: 255 }),
    priority: fc.integer({ min: 0, max: 255 }),
    intervalCs: fc.integer({ min: 1, max: 255 }).map((s) => s * 100),
    family: fc.constant("inet" as const),
    addrs: fc.array(u32.map(ipv4FromU32), { maxLength: 20 }),
    authType: fc.constantFrom(0, 1),
    authData: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  }),
  fc.record({
    version: fc.constant(3 as const),
    vrid: fc.integer({ min: 1, max: 255 }),
    priority: fc.integer({ min: 0, max: 255 }),
    intervalCs: fc.integer({ min: 1, max: 4095 }),
    family: fc.constant("inet" as const),
    addrs: fc.array(u32.map(ipv4FromU32), { maxLength: 20 }),
    authType: fc.constant(0),
    authData: fc.constant(new Uint8Array(0)),
  }),
);

describe("properties", () => {
  test("encode → decode gives the advert back (v2 and v3, any addressing)", () => {
    fc.assert(
      fc.property(
        advertArb,
        u32,
        u32,
        fc.constantFrom("pseudo" as const, "plain" as const),
        (a, s, d, form) => {
          const ad = { src: ipv4FromU32(s), dst: ipv4FromU32(d) };
          const r = decodeVrrp(encodeVrrp(a, ad, form), ad);
          expect(r.ok && r.advert).toEqual(a);
        },
      ),
    );
  });

  test("IPv6 v3 adverts round trip with the IPv6 pseudo-header", () => {
    const w = fc.array(u32, { minLength: 4, maxLength: 4 }).map(ipv6FromWords);
    fc.assert(
      fc.property(w, w, fc.array(w, { maxLength: 5 }), (src, dst, addrs) => {
        const a = v3({ family: "inet6", addrs });
        const msg = encodeVrrp(a, { src, dst });
        expect(decodeVrrp(msg, { src, dst })).toMatchObject({ ok: true, advert: a, checksumForm: "pseudo" });
      }),
    );
  });

  const settings: ReceiveSettings = {
    version: 2,
    vrid: 51,
    intervalCs: 100,
    pass: null,
    vips: [VIP],
    unicast: false,
    peers: [],
    checkUnicastSrc: false,
    skipCheckAdvAddr: false,
    vipMismatch: "drop",
  };

  test("random bytes never throw in the IPv4, VRRP or receive-check decoders", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        decodeVrrp(bytes, mc);
        const ipr = decodeIpv4(bytes);
        if (ipr.ok) checkDatagram(settings, ipr.dgram);
        checkDatagram(settings, { src: A, dst: VRRP_MCAST4, ttl: 255, id: 1, payload: bytes });
      }),
      { numRuns: 3000 },
    );
  });

  test("random bytes with a valid header prefix are decoded or refused, never thrown", () => {
    const prefix = unhex("2133640100010000");
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), (tail) => {
        const r = decodeVrrp(Uint8Array.from([...prefix, ...tail]), mc);
        expect(typeof r.ok).toBe("boolean");
      }),
    );
  });
});
