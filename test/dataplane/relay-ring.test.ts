/** The relay threads' ring (src/dataplane/proxy/epoll/relay-ring.ts): order, payloads, wrap-around, full. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Ring } from "../../src/dataplane/proxy/epoll/relay-ring.ts";

describe("relay ring", () => {
  test("records come out in order with their arguments and bytes; a full ring refuses, then takes more", () => {
    const r = Ring.create(1024);
    let pushed = 0;
    while (r.push(1, [pushed, 2 * pushed])) pushed++;
    expect(pushed).toBeGreaterThan(5);
    const first = r.shift()!;
    expect([first.kind, first.args[0], first.args[1], first.bytes]).toEqual([1, 0, 0, null]);
    expect(r.push(2, [99], new Uint8Array([1, 2, 3]))).toBe(false); // 3 bytes take a second record's room
    expect(r.push(1, [pushed])).toBe(true);
    for (let i = 1; i <= pushed; i++) expect(r.shift()!.args[0]).toBe(i);
    expect(r.shift()).toBeNull();
  });

  test("property: any sequence of pushes and shifts keeps FIFO order and bytes across wrap-arounds", () => {
    const op = fc.oneof(
      fc.record({ push: fc.constant(true), len: fc.integer({ min: 0, max: 300 }) }),
      fc.record({ push: fc.constant(false), len: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const r = Ring.create(2048);
        const model: { id: number; bytes: Uint8Array }[] = [];
        let id = 0;
        for (const o of ops) {
          if (o.push) {
            const bytes = new Uint8Array(o.len).map((_, i) => (id + i) & 255);
            if (r.push(7, [id], bytes)) model.push({ id, bytes });
            id++;
          } else {
            const rec = r.shift();
            const want = model.shift();
            if (want === undefined) expect(rec).toBeNull();
            else {
              expect(rec!.args[0]).toBe(want.id);
              expect(rec!.bytes ?? new Uint8Array(0)).toEqual(want.bytes);
            }
          }
        }
        // What is left drains in order.
        for (const want of model) expect(r.shift()!.args[0]).toBe(want.id);
        expect(r.shift()).toBeNull();
      }),
    );
  });
});
