/**
 * Reload plans against a real Director: unchanged services get no operation (their dest objects,
 * and so their connections and counters, survive), changes become the fewest Director API calls,
 * and the hash-bucket movement of sh/dh/mh services matches the real scheduler tables.
 */
import { describe, expect, test } from "bun:test";
import type { Director } from "../../src/director/director.ts";
import type { Service } from "../../src/model/service.ts";
import { planReload } from "../../src/rules/plan.ts";
import { applyAll, directorFrom, parseOk } from "./helpers.ts";

/** A TCP service on 192.0.2.10:80 with real servers 10.0.0.N:80 of the given weights, in file order. */
function conf(sched: string, weights: Record<number, number>, extra = ""): string {
  const rs = Object.entries(weights)
    .map(([n, w]) => `  real_server 10.0.0.${n} 80 {\n    weight ${w}\n  }\n`)
    .join("");
  return `virtual_server 192.0.2.10 80 {\n  lvs_sched ${sched}\n  lvs_method NAT\n  protocol TCP\n${extra}${rs}}\n`;
}

const svcOf = (d: Director): Service => [...d.services.values()][0];
const order = (d: Director) => svcOf(d).dests.map((x) => x.addr.text);

describe("planReload", () => {
  test("the same rules: no operations", () => {
    const text = conf("rr", { 1: 1, 2: 2 });
    const d = directorFrom(parseOk(text));
    const p = planReload(d, parseOk(text));
    expect(p.ops).toEqual([]);
    expect(p.lines).toEqual(["= no changes"]);
  });

  test("a new service: add-service, then its servers in file order (kernel list newest first)", () => {
    const d = directorFrom(parseOk(""));
    const p = planReload(d, parseOk(conf("rr", { 1: 1, 2: 1, 3: 1 })));
    expect(p.ops.map((o) => o.op)).toEqual(["add-service", "add-server", "add-server", "add-server"]);
    applyAll(d, p.ops);
    expect(order(d)).toEqual(["10.0.0.3", "10.0.0.2", "10.0.0.1"]);
    expect(p.lines).toEqual([
      "+ TCP 192.0.2.10:80 rr",
      "+   -> 10.0.0.1:80 masq weight 1",
      "+   -> 10.0.0.2:80 masq weight 1",
      "+   -> 10.0.0.3:80 masq weight 1",
    ]);
  });

  test("a weight change is one edit-server; the other dests are the same objects", () => {
    const d = directorFrom(parseOk(conf("wrr", { 1: 1, 2: 1 })));
    const before = [...svcOf(d).dests];
    before[0].stats.conns = 7;
    const p = planReload(d, parseOk(conf("wrr", { 1: 5, 2: 1 })));
    expect(p.ops).toHaveLength(1);
    expect(p.ops[0]).toMatchObject({ op: "edit-server", dest: { weight: 5 } });
    applyAll(d, p.ops);
    expect(svcOf(d).dests).toEqual(before);
    expect(svcOf(d).dests[0]).toBe(before[0]);
    expect(svcOf(d).dests[0].stats.conns).toBe(7);
    expect(p.lines).toEqual(["~ TCP 192.0.2.10:80", "~   -> 10.0.0.1:80: weight 1 → 5"]);
  });

  test("service attributes: one edit-service; removed dests and services are deleted", () => {
    const two = `${conf("rr", { 1: 1, 2: 1 })}virtual_server 192.0.2.11 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n}\n`;
    const d = directorFrom(parseOk(two));
    const p = planReload(d, parseOk(conf("wlc", { 1: 1 }, "  persistence_timeout 60\n")));
    expect(p.ops.map((o) => o.op)).toEqual(["delete-service", "edit-service", "delete-server"]);
    applyAll(d, p.ops);
    expect(planReload(d, parseOk(conf("wlc", { 1: 1 }, "  persistence_timeout 60\n"))).ops).toEqual([]);
    expect(p.lines).toEqual([
      "- TCP 192.0.2.11:80 (0 real servers)",
      "~ TCP 192.0.2.10:80: scheduler rr → wlc, flags 0x0 → 0x1, persistence 0 → 60",
      "-   -> 10.0.0.2:80",
    ]);
  });

  test("a forwarding method change is an edit", () => {
    const d = directorFrom(parseOk(conf("rr", { 1: 1 })));
    const p = planReload(d, parseOk(conf("rr", { 1: 1 }).replace("NAT", "TUN")));
    expect(p.ops).toEqual([
      expect.objectContaining({ op: "edit-server", dest: expect.objectContaining({ forward: "tunnel" }) }),
    ]);
  });
});

/** sh's table, independently: walk 256 buckets over the list, `weight` buckets each (≥ 1). */
function shOwners(list: [string, number][]): string[] {
  const out: string[] = [];
  let p = 0;
  let n = 0;
  for (let i = 0; i < 256; i++) {
    out.push(list[p][0]);
    if (++n >= list[p][1]) {
      p = (p + 1) % list.length;
      n = 0;
    }
  }
  return out;
}

const differ = (a: string[], b: string[]) => a.filter((x, i) => x !== b[i]).length;

describe("hash bucket movement", () => {
  test("sh: a 4th equal-weight server (independent table walk)", () => {
    const d = directorFrom(parseOk(conf("sh", { 1: 1, 2: 1, 3: 1 })));
    const p = planReload(d, parseOk(conf("sh", { 1: 1, 2: 1, 3: 1, 4: 1 })));
    // Kernel list order is newest first.
    const old = shOwners([
      ["3", 1],
      ["2", 1],
      ["1", 1],
    ]);
    const neu = shOwners([
      ["4", 1],
      ["3", 1],
      ["2", 1],
      ["1", 1],
    ]);
    const want = differ(old, neu);
    expect(want).toBe(193);
    expect(p.moves.get("tcp:192.0.2.10:80")).toEqual({ scheduler: "sh", moved: want, size: 256 });
    expect(p.lines.at(-1)).toBe("    sh: 193 of 256 buckets (75.4%) move to another real server");
  });

  test("sh: a weight change moves buckets (sh rebuilds on update)", () => {
    const d = directorFrom(parseOk(conf("sh", { 1: 2, 2: 1 })));
    const p = planReload(d, parseOk(conf("sh", { 1: 3, 2: 1 })));
    const want = differ(
      shOwners([
        ["2", 1],
        ["1", 2],
      ]),
      shOwners([
        ["2", 1],
        ["1", 3],
      ]),
    );
    expect(p.moves.get("tcp:192.0.2.10:80")?.moved).toBe(want);
    expect(want).toBeGreaterThan(0);
  });

  test("dh ignores weights: a weight change moves nothing; removing one of 4 moves 3/4", () => {
    const d = directorFrom(parseOk(conf("dh", { 1: 1, 2: 1, 3: 1, 4: 1 })));
    expect(
      planReload(d, parseOk(conf("dh", { 1: 9, 2: 1, 3: 1, 4: 1 }))).moves.get("tcp:192.0.2.10:80")?.moved,
    ).toBe(0);
    const p = planReload(d, parseOk(conf("dh", { 1: 1, 2: 1, 3: 1 })));
    const old = [4, 3, 2, 1].map(String);
    const neu = [3, 2, 1].map(String);
    const want = Array.from({ length: 256 }, (_, i) => (old[i % 4] !== neu[i % 3] ? 1 : 0)).reduce<number>(
      (a, b) => a + b,
      0,
    );
    expect(p.moves.get("tcp:192.0.2.10:80")).toEqual({ scheduler: "dh", moved: want, size: 256 });
  });

  /** Owners of the real director's table (sh/dh bucket(), mh slot()). */
  function liveOwners(d: Director, size: number): string[] {
    const sched = svcOf(d).sched as unknown as {
      bucket?(i: number): { key: string } | null;
      slot?(i: number): { key: string } | null;
    };
    const read = (i: number) => (sched.bucket ? sched.bucket(i) : sched.slot!(i));
    return Array.from({ length: size }, (_, i) => read(i)?.key ?? "");
  }

  for (const [sched, size, from, to] of [
    ["mh", 4093, { 1: 1, 2: 1, 3: 1 }, { 1: 1, 2: 1, 3: 1, 4: 1 }],
    ["mh", 4093, { 1: 1, 2: 1, 3: 1, 4: 1 }, { 1: 1, 2: 1, 4: 1 }],
    ["mh", 4093, { 1: 2, 2: 1 }, { 1: 3, 2: 1, 5: 2 }],
    ["sh", 256, { 1: 2, 2: 1 }, { 2: 1, 6: 4 }],
  ] as const) {
    test(`${sched} ${JSON.stringify(from)} → ${JSON.stringify(to)}: the plan's count equals the real tables' difference`, () => {
      const d = directorFrom(parseOk(conf(sched, from)));
      const before = liveOwners(d, size);
      const p = planReload(d, parseOk(conf(sched, to)));
      applyAll(d, p.ops);
      const after = liveOwners(d, size);
      const moved = differ(before, after);
      expect(p.moves.get("tcp:192.0.2.10:80")).toEqual({ scheduler: sched, moved, size });
      expect(moved).toBeGreaterThan(0);
      expect(moved).toBeLessThan(size);
    });
  }

  test("mh: adding a 4th equal server moves about a quarter of the slots (Maglev's minimal disruption)", () => {
    const d = directorFrom(parseOk(conf("mh", { 1: 1, 2: 1, 3: 1 })));
    const m = planReload(d, parseOk(conf("mh", { 1: 1, 2: 1, 3: 1, 4: 1 }))).moves.get("tcp:192.0.2.10:80")!;
    expect(m.moved / m.size).toBeGreaterThan(0.2);
    expect(m.moved / m.size).toBeLessThan(0.35);
  });

  test("no movement line for non-hashing schedulers or a scheduler change", () => {
    const d = directorFrom(parseOk(conf("rr", { 1: 1 })));
    expect(planReload(d, parseOk(conf("rr", { 1: 1, 2: 1 }))).moves.size).toBe(0);
    expect(planReload(d, parseOk(conf("sh", { 1: 1, 2: 1 }))).moves.size).toBe(0);
  });
});
