import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CONN_F_TEMPLATE, ConnTable } from "../../src/conntrack/table.ts";
import { ipv4FromU32, parseIp } from "../../src/model/addr.ts";

const A = (s: string) => parseIp(s)!;

function entry(i: number, flags = 0) {
  return {
    proto: 6,
    caddr: ipv4FromU32(0xcb007100 + (i & 0xff)),
    cport: 10000 + i,
    vaddr: A("192.0.2.10"),
    vport: 80,
    daddr: A("198.51.100.11"),
    dport: 80,
    flags,
    state: 1,
    dest: null,
    fwmark: 0,
  };
}

describe("ConnTable", () => {
  test("lookup finds an entry by its key and tells templates apart", () => {
    const t = new ConnTable(16);
    const c = t.insert(entry(1));
    const tpl = t.insert({ ...entry(1), cport: 0, flags: CONN_F_TEMPLATE });
    expect(t.lookup(6, A("203.0.113.1"), 10001, A("192.0.2.10"), 80)).toBe(c);
    expect(t.lookup(6, A("203.0.113.1"), 0, A("192.0.2.10"), 80, true)).toBe(tpl);
    expect(t.lookup(6, A("203.0.113.1"), 0, A("192.0.2.10"), 80, false)).toBe(-1);
    expect(t.lookup(17, A("203.0.113.1"), 10001, A("192.0.2.10"), 80)).toBe(-1);
  });

  test("IPv6 entries are found, and their interned addresses come back", () => {
    const t = new ConnTable(16);
    const c = t.insert({
      ...entry(0),
      caddr: A("2001:db8::7"),
      vaddr: A("2001:db8::1"),
      daddr: A("198.51.100.1"),
    });
    expect(t.lookup(6, A("2001:db8::7"), 10000, A("2001:db8::1"), 80)).toBe(c);
    expect(t.lookup(6, A("2001:db8::8"), 10000, A("2001:db8::1"), 80)).toBe(-1);
    expect(t.caddr(c).text).toBe("2001:db8::7");
    expect(t.daddr(c).text).toBe("198.51.100.1");
    t.remove(c);
    expect(t.lookup(6, A("2001:db8::7"), 10000, A("2001:db8::1"), 80)).toBe(-1);
  });

  test("timers expire in time order across timeout lists, re-arming moves an entry", () => {
    const t = new ConnTable(16);
    const a = t.insert(entry(1));
    const b = t.insert(entry(2));
    const c = t.insert(entry(3));
    t.arm(a, 60_000, 0);
    t.arm(b, 10_000, 0);
    t.arm(c, 60_000, 5_000);
    t.arm(b, 120_000, 1_000); // re-armed: now due at 121 s
    expect(t.nextExpiry()).toBe(60_000);
    expect(t.popDue(59_999)).toBe(-1);
    expect(t.popDue(200_000)).toBe(a);
    expect(t.popDue(200_000)).toBe(c);
    expect(t.popDue(200_000)).toBe(b);
    expect(t.popDue(200_000)).toBe(-1);
  });

  test("irregular timeouts go to the heap and still come out in order", () => {
    const t = new ConnTable(16);
    const slots: number[] = [];
    for (let i = 0; i < 100; i++) {
      const s = t.insert(entry(i));
      t.arm(s, ((i * 7919) % 100) * 1000 + 1, 0);
      slots.push(s);
    }
    let last = -1;
    let n = 0;
    for (let s = t.popDue(1e9); s >= 0; s = t.popDue(1e9)) {
      const due = ((slots.indexOf(s) * 7919) % 100) * 1000 + 1;
      expect(due).toBeGreaterThanOrEqual(last);
      last = due;
      n++;
    }
    expect(n).toBe(100);
  });

  test("grows past its initial capacity and keeps every entry reachable", () => {
    const t = new ConnTable(16);
    for (let i = 0; i < 5000; i++) t.insert({ ...entry(i), caddr: ipv4FromU32(0x0a000000 + i) });
    expect(t.size).toBe(5000);
    for (let i = 0; i < 5000; i += 97)
      expect(t.lookup4(6, 0x0a000000 + i, 10000 + i, A("192.0.2.10").words[0], 80)).toBeGreaterThanOrEqual(0);
  });

  test("behaves like a Map under random inserts, removes and lookups (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom("ins", "del", "get"),
            fc.integer({ min: 0, max: 40 }),
            fc.integer({ min: 0, max: 3 }),
          ),
        ),
        (ops) => {
          const t = new ConnTable(16);
          const model = new Map<string, number>();
          for (const [op, c, v] of ops) {
            const key = `${c}/${v}`;
            const caddr = ipv4FromU32(0xc0000200 + c);
            const vaddr = ipv4FromU32(0xc6336400 + v);
            if (op === "ins" && !model.has(key)) {
              model.set(key, t.insert({ ...entry(0), caddr, vaddr, cport: c }));
            } else if (op === "del" && model.has(key)) {
              t.remove(model.get(key)!);
              model.delete(key);
            } else {
              expect(t.lookup(6, caddr, c, vaddr, 80)).toBe(model.get(key) ?? -1);
            }
          }
          expect(t.size).toBe(model.size);
        },
      ),
    );
  });
});
