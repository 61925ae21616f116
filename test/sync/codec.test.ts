/**
 * Sync message codec: byte-for-byte against messages built by test/sync/fixtures/golden.py
 * (Python struct from the kernel's layouts), error cases, and fast-check properties.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ipv4FromU32, ipv6FromWords, parseIp } from "../../src/model/addr.ts";
import {
  decodeMessage,
  encodeMessages,
  encodeV0,
  entryLength,
  MessageBuilder,
  type SyncConn,
} from "../../src/sync/codec.ts";
import golden from "./fixtures/golden.json";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (h: string) => new Uint8Array(Buffer.from(h, "hex"));
const gold = (name: string) => {
  const c = (golden as { name: string; hex: string }[]).find((x) => x.name === name);
  if (!c) throw new Error(`golden case ${name} missing: run test/sync/fixtures/golden.py`);
  return c.hex;
};
const ip = (t: string) => parseIp(t)!;

function conn(p: Partial<SyncConn> & Pick<SyncConn, "caddr" | "vaddr" | "daddr">): SyncConn {
  return {
    af: p.caddr.af,
    protocol: 6,
    flags: 0,
    state: 0,
    cport: 0,
    vport: 0,
    dport: 0,
    fwmark: 0,
    timeout: 0,
    ...p,
  };
}

const oneTcp = conn({
  protocol: 6,
  flags: 0x83,
  state: 1,
  cport: 40000,
  vport: 80,
  dport: 80,
  timeout: 900,
  caddr: ip("203.0.113.10"),
  vaddr: ip("192.0.2.100"),
  daddr: ip("198.51.100.1"),
});
const seqThenV6 = [
  conn({
    flags: 0x600,
    state: 4,
    cport: 1234,
    vport: 21,
    dport: 2121,
    timeout: 120,
    caddr: ip("203.0.113.1"),
    vaddr: ip("192.0.2.1"),
    daddr: ip("198.51.100.2"),
    seq: { in: [1, 2, 3], out: [0xffffffff, 5, 6] },
  }),
  conn({
    protocol: 17,
    flags: 0x183,
    cport: 5353,
    vport: 53,
    dport: 53,
    timeout: 300,
    caddr: ip("2001:db8::1"),
    vaddr: ip("2001:db8:1::53"),
    daddr: ip("2001:db8:2::7"),
  }),
];
const templatesAndPe = [
  conn({
    protocol: 0,
    flags: 0x1003,
    state: 1,
    fwmark: 42,
    timeout: 360,
    caddr: ip("203.0.113.0"),
    vaddr: ip("0.0.0.42"),
    daddr: ip("198.51.100.3"),
  }),
  conn({
    protocol: 17,
    flags: 0x1003,
    vport: 5060,
    dport: 5060,
    timeout: 600,
    caddr: ip("203.0.113.9"),
    vaddr: ip("192.0.2.5"),
    daddr: ip("198.51.100.4"),
    peData: new TextEncoder().encode("call-1"),
    peName: "sip",
  }),
  conn({
    flags: 0x83,
    state: 5,
    cport: 65535,
    vport: 443,
    dport: 443,
    timeout: 120,
    caddr: ip("203.0.113.9"),
    vaddr: ip("192.0.2.5"),
    daddr: ip("198.51.100.4"),
  }),
];
const v0Two = [
  conn({
    flags: 0x83,
    state: 1,
    cport: 40001,
    vport: 80,
    dport: 80,
    caddr: ip("203.0.113.11"),
    vaddr: ip("192.0.2.100"),
    daddr: ip("198.51.100.1"),
  }),
  conn({
    flags: 0x600,
    state: 7,
    cport: 40002,
    vport: 21,
    dport: 21,
    caddr: ip("203.0.113.12"),
    vaddr: ip("192.0.2.100"),
    daddr: ip("198.51.100.2"),
    seq: { in: [9, 8, 7], out: [6, 5, 4] },
  }),
];

/** What a decoded entry should equal: flags as sent; v0 adds SYNC and has no timeout. */
function comparable(c: SyncConn) {
  return {
    ...c,
    caddr: c.caddr.text,
    vaddr: c.vaddr.text,
    daddr: c.daddr.text,
    peData: c.peData ? hex(c.peData) : undefined,
  };
}

describe("golden messages (Python struct)", () => {
  const v1: [string, SyncConn[], number][] = [
    ["v1-one-tcp-established", [oneTcp], 7],
    ["v1-seq-then-ipv6-padded", seqThenV6, 0],
    ["v1-fwmark-template-and-pe", templatesAndPe, 255],
  ];
  for (const [name, conns, syncid] of v1) {
    test(`${name}: encoded byte for byte`, () => {
      const msgs = encodeMessages(syncid, 1472, conns);
      expect(msgs.length).toBe(1);
      expect(hex(msgs[0])).toBe(gold(name));
    });
    test(`${name}: decoded field for field`, () => {
      const r = decodeMessage(unhex(gold(name)));
      if (!r.ok) throw new Error(r.reason);
      expect(r.msg.version).toBe(1);
      expect(r.msg.syncid).toBe(syncid);
      expect(r.msg.skipped).toEqual([]);
      expect(r.msg.stopped).toBeUndefined();
      expect(r.msg.conns.map(comparable)).toEqual(conns.map(comparable));
    });
  }
  test("v1-seq-then-ipv6-padded: 2 bytes of padding before the IPv6 entry", () => {
    const b = unhex(gold("v1-seq-then-ipv6-padded"));
    expect(entryLength(seqThenV6[0])).toBe(62);
    expect([b[8 + 62], b[8 + 63]]).toEqual([0, 0]);
    expect(b[8 + 64]).toBe(1); // type: IPv6
    expect(b.length).toBe(8 + 64 + 72);
  });
  test("v0-two: encoded and decoded (SYNC added, timeout 0)", () => {
    expect(hex(encodeV0(3, v0Two))).toBe(gold("v0-two"));
    const r = decodeMessage(unhex(gold("v0-two")));
    if (!r.ok) throw new Error(r.reason);
    expect(r.msg.version).toBe(0);
    expect(r.msg.conns.map(comparable)).toEqual(
      v0Two.map((c) => comparable({ ...c, flags: c.flags | 0x20, timeout: 0 })),
    );
  });
});

describe("decoder refusals", () => {
  const good = () => unhex(gold("v1-one-tcp-established"));
  test("shorter than a header", () => {
    const r = decodeMessage(new Uint8Array(3));
    expect(r).toEqual({ ok: false, reason: "message of 3 bytes is shorter than a header" });
  });
  test("size field differs from the datagram", () => {
    const b = good();
    const r = decodeMessage(b.slice(0, b.length - 1));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain("size field says 44 bytes but the datagram has 43");
    const longer = new Uint8Array(b.length + 4);
    longer.set(b);
    expect(decodeMessage(longer).ok).toBe(false);
  });
  test("sync id filter: 0 takes all, otherwise only equal", () => {
    expect(decodeMessage(good(), 0).ok).toBe(true);
    expect(decodeMessage(good(), 7).ok).toBe(true);
    const r = decodeMessage(good(), 8);
    expect(r).toEqual({ ok: false, reason: "sync id 7 is not ours (8)" });
  });
  test("an entry whose size runs past the end stops the message", () => {
    const b = good();
    b[8 + 3] = 200; // ver_size low byte
    const r = decodeMessage(b);
    expect(r.ok && r.msg.stopped).toContain("claims 200 bytes, past the end");
    expect(r.ok && r.msg.conns.length).toBe(0);
  });
  test("unknown entry version stops the message", () => {
    const b = good();
    b[8 + 2] = 0x10;
    const r = decodeMessage(b);
    expect(r.ok && r.msg.stopped).toBe("entry 1 has unknown version 1");
  });
  test("a header version other than 1 is read as v0", () => {
    const b = good();
    b[5] = 2;
    const r = decodeMessage(b);
    expect(r.ok && r.msg.version).toBe(0);
  });
  test("unsupported protocol and invalid state skip one entry, the next is kept", () => {
    const bad = { ...oneTcp, protocol: 99 };
    const badState = { ...oneTcp, state: 11 };
    const [m] = encodeMessages(0, 1472, [bad, badState, oneTcp]);
    const r = decodeMessage(m);
    if (!r.ok) throw new Error(r.reason);
    expect(r.msg.skipped).toEqual([
      "entry 1: unsupported protocol 99",
      "entry 2: invalid state 11 for protocol 6",
    ]);
    expect(r.msg.conns.length).toBe(1);
  });
  test("templates are not state-checked (the kernel only logs)", () => {
    const [m] = encodeMessages(0, 1472, [{ ...oneTcp, flags: 0x1003, state: 9 }]);
    const r = decodeMessage(m);
    expect(r.ok && r.msg.conns.length).toBe(1);
  });
  test("unknown options: optional (0x40) ignored, mandatory skips the entry", () => {
    const [m] = encodeMessages(0, 1472, [oneTcp]);
    const withOpt = (type: number) => {
      const b = new Uint8Array(m.length + 4);
      b.set(m);
      b.set([type, 2, 0xaa, 0xbb], m.length);
      const v = new DataView(b.buffer);
      v.setUint16(2, b.length);
      v.setUint16(8 + 2, 36 + 4);
      return b;
    };
    const opt = decodeMessage(withOpt(0x45));
    expect(opt.ok && opt.msg.conns.length).toBe(1);
    const mand = decodeMessage(withOpt(0x05));
    expect(mand.ok && mand.msg.skipped).toEqual(["entry 1: unknown mandatory option 5"]);
  });
  test("a zero-length option stops the message", () => {
    const [m] = encodeMessages(0, 1472, [oneTcp]);
    const b = new Uint8Array(m.length + 4);
    b.set(m);
    b.set([1, 0, 0, 0], m.length);
    const v = new DataView(b.buffer);
    v.setUint16(2, b.length);
    v.setUint16(8 + 2, 40);
    const r = decodeMessage(b);
    expect(r.ok && r.msg.stopped).toBe("entry 1: option 1 length 0 does not fit");
  });
  test("a v0 entry cut short stops", () => {
    const b = unhex(gold("v0-two"));
    b[0] = 3; // claims three entries
    const r = decodeMessage(b);
    expect(r.ok && r.msg.conns.length).toBe(2);
    expect(r.ok && r.msg.stopped).toBe("v0 entry 3 of 3 cut short");
  });
});

describe("batching", () => {
  test("maxlen splits messages; every message fits and together they hold every entry in order", () => {
    const conns = Array.from({ length: 100 }, (_, i) => ({ ...oneTcp, cport: 1000 + i }));
    const msgs = encodeMessages(1, 1472, conns);
    expect(msgs.length).toBe(3); // 40 entries of 36 bytes after the 8-byte header
    expect(msgs.map((m) => m.length)).toEqual([8 + 40 * 36, 8 + 40 * 36, 8 + 20 * 36]);
    const back = msgs.flatMap((m) => {
      const r = decodeMessage(m);
      return r.ok ? r.msg.conns.map((c) => c.cport) : [];
    });
    expect(back).toEqual(conns.map((c) => c.cport));
  });
  test("an entry larger than maxlen still goes out alone", () => {
    const b = new MessageBuilder(0, 20, entryLength(oneTcp));
    expect(b.add(oneTcp)).toBe(true);
    expect(b.add(oneTcp)).toBe(false);
    expect(b.finish().length).toBe(44);
  });
  test("at most 255 entries per message (nr_conns is one byte)", () => {
    const conns = Array.from({ length: 300 }, (_, i) => ({ ...oneTcp, cport: i }));
    const msgs = encodeMessages(0, 65507, conns);
    expect(msgs.map((m) => m[4])).toEqual([255, 45]);
  });
});

const arbV4 = fc.integer({ min: 0, max: 0xffffffff }).map(ipv4FromU32);
const arbV6 = fc
  .array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 4, maxLength: 4 })
  .map(ipv6FromWords);
const arbConn: fc.Arbitrary<SyncConn> = fc
  .record({
    v6: fc.boolean(),
    a: fc.tuple(arbV4, arbV4, arbV4),
    b: fc.tuple(arbV6, arbV6, arbV6),
    protocol: fc.constantFrom(6, 17, 132),
    state: fc.integer({ min: 0, max: 0 }),
    flags: fc.integer({ min: 0, max: 0x1fff }).map((f) => f & ~0x40),
    cport: fc.integer({ min: 0, max: 65535 }),
    vport: fc.integer({ min: 0, max: 65535 }),
    dport: fc.integer({ min: 0, max: 65535 }),
    fwmark: fc.integer({ min: 0, max: 0xffffffff }),
    timeout: fc.integer({ min: 0, max: 0xffffffff }),
    seq: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 6, maxLength: 6 }),
    pe: fc.option(
      fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.stringMatching(/^[a-z]{1,16}$/)),
    ),
  })
  .map((r) => {
    const [caddr, vaddr, daddr] = r.v6 ? r.b : r.a;
    const c: SyncConn = {
      af: r.v6 ? "inet6" : "inet",
      protocol: r.protocol,
      flags: r.flags,
      state: r.state,
      cport: r.cport,
      vport: r.vport,
      dport: r.dport,
      fwmark: r.fwmark,
      timeout: r.timeout,
      caddr,
      vaddr,
      daddr,
    };
    if (r.flags & 0x600) c.seq = { in: [r.seq[0], r.seq[1], r.seq[2]], out: [r.seq[3], r.seq[4], r.seq[5]] };
    if (r.pe) {
      c.peData = r.pe[0];
      c.peName = r.pe[1];
    }
    return c;
  });

describe("properties", () => {
  test("random bytes never throw; results are well formed", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 0, max: 255 }), (b, id) => {
        const r = decodeMessage(b, id);
        if (r.ok) {
          expect(Array.isArray(r.msg.conns)).toBe(true);
          expect(r.msg.conns.length).toBeLessThanOrEqual(255);
        } else expect(r.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
  });
  test("random bytes with a consistent size field and v1 header never throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 600 }), (b) => {
        const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
        v.setUint8(0, 0);
        v.setUint16(2, b.length);
        v.setUint8(5, 1);
        v.setUint16(6, 0);
        const r = decodeMessage(b);
        expect(r.ok).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
  test("encode then decode gives the same entries back", () => {
    fc.assert(
      fc.property(
        fc.array(arbConn, { maxLength: 60 }),
        fc.integer({ min: 100, max: 9000 }),
        (conns, maxlen) => {
          const msgs = encodeMessages(9, maxlen, conns);
          const back: SyncConn[] = [];
          for (const m of msgs) {
            expect(m.length <= maxlen || m[4] === 1).toBe(true);
            const r = decodeMessage(m, 9);
            if (!r.ok) throw new Error(r.reason);
            expect(r.msg.stopped).toBeUndefined();
            expect(r.msg.skipped).toEqual([]);
            back.push(...r.msg.conns);
          }
          expect(back.map(comparable)).toEqual(conns.map(comparable));
        },
      ),
      { numRuns: 300 },
    );
  });
  test("every truncation of a valid message is refused, never thrown", () => {
    fc.assert(
      fc.property(fc.array(arbConn, { minLength: 1, maxLength: 8 }), (conns) => {
        const [m] = encodeMessages(0, 65000, conns);
        for (let n = 0; n < m.length; n++) {
          const cut = m.slice(0, n);
          const r = decodeMessage(cut);
          expect(r.ok).toBe(false);
          // With the size field patched the decoder reads what is there and says where it stopped.
          if (n >= 8) {
            new DataView(cut.buffer).setUint16(2, n);
            const p = decodeMessage(cut);
            expect(p.ok && p.msg.conns.length < conns.length).toBe(true);
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});
