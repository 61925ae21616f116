import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { hash32, hsiphashU32, sipHashBytes, sipInit } from "../../src/sched/hash.ts";
import { MH_HASH1, MH_HASH2, MH_TAB_SIZE, mhHashkey } from "../../src/sched/mh.ts";

const hex64 = ([hi, lo]: [number, number]) =>
  hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
const ip4 = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
const le32 = (v: number) => Uint8Array.from([v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24]);

describe("SipHash round function (Appendix B reference vectors, SipHash-2-4)", () => {
  const key = { k0: 0x0706050403020100n, k1: 0x0f0e0d0c0b0a0908n };
  test("empty message", () => {
    expect(hex64(sipHashBytes(key, new Uint8Array(0), 2, 4))).toBe("726fdb47dd0e0e31");
  });
  test("message 00..07", () => {
    expect(hex64(sipHashBytes(key, Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]), 2, 4))).toBe(
      "93f5f5799a932462",
    );
  });
});

describe("hash_32 (Appendix B)", () => {
  const cases: [number, number, number][] = [
    [ip4(10, 0, 0, 1), 39, 159],
    [ip4(10, 0, 0, 2), 137, 550],
    [ip4(192, 168, 1, 100), 89, 357],
  ];
  for (const [addr, b8, b10] of cases) {
    test(`0x${addr.toString(16)} -> ${b8} (8 bits), ${b10} (10 bits)`, () => {
      expect(hash32(addr, 8)).toBe(b8);
      expect(hash32(addr, 10)).toBe(b10);
    });
  }
  test("result stays within the bit range for any u32", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 31 }), (v, bits) => {
        const h = hash32(v, bits);
        return h >= 0 && h < 2 ** bits;
      }),
    );
  });
});

describe("hsiphash, 64-bit kernel flavour (SipHash-1-3, low 32 bits)", () => {
  test("fast u32 path equals the generic SipHash-1-3 over the 4 little-endian bytes", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (k0, k1, v) => {
          const key = { k0, k1 };
          return hsiphashU32(sipInit(key), v) === sipHashBytes(key, le32(v), 1, 3)[1];
        },
      ),
      { numRuns: 500 },
    );
  });
  test("mh keys are the fixed 2654435761 / 2654446892 words", () => {
    const k1 = { k0: 2654435761n, k1: 2654435761n };
    const k2 = { k0: 2654446892n, k1: 2654446892n };
    expect(hsiphashU32(MH_HASH1, 12345)).toBe(sipHashBytes(k1, le32(12345), 1, 3)[1]);
    expect(hsiphashU32(MH_HASH2, 12345)).toBe(sipHashBytes(k2, le32(12345), 1, 3)[1]);
  });
});

describe("MH permutation and lookup vectors (Appendix B, M = 4093)", () => {
  const dests: [number, number, number][] = [
    [ip4(192, 168, 10, 1), 3189, 175],
    [ip4(192, 168, 10, 2), 3679, 3377],
    [ip4(192, 168, 10, 3), 3093, 3776],
  ];
  for (const [addr, offset, skip] of dests) {
    test(`dest 0x${addr.toString(16)}:80 -> offset ${offset}, skip ${skip}`, () => {
      expect(mhHashkey(MH_HASH1, addr, 80, 0) % MH_TAB_SIZE).toBe(offset);
      expect((mhHashkey(MH_HASH2, addr, 80, 0) % (MH_TAB_SIZE - 1)) + 1).toBe(skip);
    });
  }
  test("client 10.0.0.1 -> 0x03080ce4, slot 3711; 10.0.0.2 -> 0x41cfde13, slot 1884", () => {
    expect(mhHashkey(MH_HASH1, ip4(10, 0, 0, 1), 0, 0)).toBe(0x03080ce4);
    expect(mhHashkey(MH_HASH1, ip4(10, 0, 0, 1), 0, 0) % MH_TAB_SIZE).toBe(3711);
    expect(mhHashkey(MH_HASH1, ip4(10, 0, 0, 2), 0, 0)).toBe(0x41cfde13);
    expect(mhHashkey(MH_HASH1, ip4(10, 0, 0, 2), 0, 0) % MH_TAB_SIZE).toBe(1884);
  });
  test("the hashed value is the u32 sum offset + port + addr", () => {
    expect(mhHashkey(MH_HASH1, ip4(10, 0, 0, 0), 1, 0)).toBe(mhHashkey(MH_HASH1, ip4(10, 0, 0, 1), 0, 0));
    expect(mhHashkey(MH_HASH1, 0xffffffff, 2, 0)).toBe(mhHashkey(MH_HASH1, 1, 0, 0));
  });
});
