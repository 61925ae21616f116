/**
 * One rule set run over every scheduler (plus the sh/mh flag variants). Where the kernel's
 * algorithm makes a rule meaningless, the rule is registered as a named skip with the reason.
 */
import { describe, expect, test } from "bun:test";
import { SCHEDULER_NAMES } from "../../src/sched/registry.ts";
import { seededRandom } from "../../src/sched/twos.ts";
import { type DestSpec, destList, type Op, Sim } from "./harness.ts";

interface Variant {
  label: string;
  scheduler: string;
  flags?: string[];
}

const VARIANTS: Variant[] = [
  ...SCHEDULER_NAMES.map((s) => ({ label: s, scheduler: s })),
  { label: "sh+fallback", scheduler: "sh", flags: ["sh-fallback"] },
  { label: "sh+port", scheduler: "sh", flags: ["sh-port"] },
  { label: "mh+fallback", scheduler: "mh", flags: ["mh-fallback"] },
  { label: "mh+port", scheduler: "mh", flags: ["mh-port"] },
];

const HASHED = new Set(["dh", "sh", "mh"]);

/** Rules that do not apply, per variant label or scheduler name, with the reason. */
const NOT_APPLICABLE: Record<string, Record<string, string>> = {
  "spreads new connections over every usable dest": {
    fo: "fo always sends everything to the single highest-weight dest",
  },
  "a weight-0 edit moves only that dest's flows": {
    sh: "sh rebuilds its bucket table from the weights on every edit, shifting other flows",
  },
};

function skipReason(rule: string, v: Variant): string | null {
  const table = NOT_APPLICABLE[rule] ?? {};
  return table[v.label] ?? table[v.scheduler] ?? null;
}

function sim(v: Variant, dests: readonly DestSpec[], seed = 1): Sim {
  return new Sim({ scheduler: v.scheduler, sched_flags: v.flags }, dests, { random: seededRandom(seed) });
}

/** Client i and packet destination i: every key distinct, so hash and cache schedulers see many flows. */
const client = (i: number) => `203.0.${(i >> 8) & 255}.${i & 255}:${10000 + i}`;
const target = (i: number) => `198.18.${(i >> 8) & 255}.${i & 255}:80`;

function rule(name: string, body: (v: Variant) => void, onlyHashed = false): void {
  describe(name, () => {
    for (const v of VARIANTS) {
      const reason =
        skipReason(name, v) ?? (onlyHashed && !HASHED.has(v.scheduler) ? "not a hash scheduler" : null);
      if (reason) test.skip(`${v.label}: n/a — ${reason}`, () => {});
      else test(v.label, () => body(v));
    }
  });
}

rule("an empty destination list gives no destination", (v) => {
  const s = sim(v, []);
  for (let i = 0; i < 20; i++) expect(s.connect(client(i), target(i))).toBeNull();
});

rule("only weight-0 destinations gives no destination", (v) => {
  const s = sim(
    v,
    destList(5, () => 0),
  );
  for (let i = 0; i < 200; i++) expect(s.connect(client(i), target(i))).toBeNull();
});

rule("weight-0 destinations are never chosen for new connections", (v) => {
  const s = sim(
    v,
    destList(9, (i) => (i % 3 === 0 ? 0 : i)),
  );
  let chosen = 0;
  for (let i = 0; i < 400; i++) {
    const d = s.connect(client(i), target(i));
    if (d) {
      chosen++;
      expect(d.weight).toBeGreaterThan(0);
    }
  }
  expect(chosen).toBeGreaterThan(0);
});

rule("overloaded destinations are skipped", (v) => {
  const s = sim(
    v,
    destList(8, (i) => i + 1),
  );
  for (const d of s.svc.dests.filter((_, i) => i % 3 === 1)) d.overloaded = true;
  let chosen = 0;
  for (let i = 0; i < 400; i++) {
    const d = s.pick(client(i), target(i));
    if (d) {
      chosen++;
      expect(d.overloaded).toBe(false);
    }
  }
  expect(chosen).toBeGreaterThan(0);
});

rule("all destinations overloaded gives no destination", (v) => {
  const s = sim(
    v,
    destList(6, (i) => i + 1),
  );
  for (const d of s.svc.dests) d.overloaded = true;
  for (let i = 0; i < 200; i++) expect(s.pick(client(i), target(i))).toBeNull();
});

rule("a deleted destination is never chosen again", (v) => {
  const s = sim(
    v,
    destList(8, (i) => (i % 4) + 1),
  );
  for (let i = 0; i < 10; i++) s.connect(client(i), target(i));
  const gone = [s.svc.dests[0].key, s.svc.dests[5].key];
  for (const k of gone) s.delDest(k);
  let chosen = 0;
  for (let i = 0; i < 300; i++) {
    const d = s.connect(client(i % 50), target(i % 50));
    if (d) {
      chosen++;
      expect(gone).not.toContain(d.key);
      expect(d.available).toBe(true);
    }
  }
  expect(chosen).toBeGreaterThan(0);
});

rule("spreads new connections over every usable dest", (v) => {
  const s = sim(
    v,
    destList(6, (i) => i + 1),
  );
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const d = s.connect(client(i), target(i));
    if (d) seen.add(d.key);
  }
  expect([...seen].sort()).toEqual(s.order().sort());
});

rule("deterministic: the same inputs give the same decisions", (v) => {
  const ops: Op[] = [];
  for (let i = 0; i < 120; i++) {
    ops.push({ op: "connect", client: client(i % 17), to: target(i % 13) });
    if (i % 7 === 3) ops.push({ op: "close", conn: i - 2 });
    if (i % 11 === 5) ops.push({ op: "expire", conn: i - 4 });
    if (i === 40) ops.push({ op: "set_weight", dest: "10.1.0.3:80", weight: 0 });
    if (i === 60) ops.push({ op: "add_dest", address: "10.9.9.9", port: 80, weight: 3 });
    if (i === 80) ops.push({ op: "del_dest", dest: "10.1.0.2:80" });
    if (i === 90) ops.push({ op: "advance", seconds: 3600 });
  }
  const run = () =>
    sim(
      v,
      destList(5, (i) => i + 1),
      99,
    ).run(ops);
  const a = run();
  expect(a.some((x) => x !== null)).toBe(true);
  expect(run()).toEqual(a);
});

/** Flow table of `n` clients (sh/mh hash the source, dh the destination). */
function flows(s: Sim, n: number): (string | null)[] {
  return Array.from({ length: n }, (_, i) => s.pick(client(i), target(i))?.key ?? null);
}

rule(
  "overloading one dest moves only that dest's flows",
  (v) => {
    const s = sim(
      v,
      destList(5, () => 2),
    );
    const before = flows(s, 600);
    const victim = s.svc.dests[2];
    victim.overloaded = true;
    const after = flows(s, 600);
    let moved = 0;
    for (let i = 0; i < before.length; i++) {
      if (before[i] === victim.key) {
        moved++;
        expect(after[i]).not.toBe(victim.key);
      } else expect(after[i]).toBe(before[i]);
    }
    expect(moved).toBeGreaterThan(0);
  },
  true,
);

rule(
  "a weight-0 edit moves only that dest's flows",
  (v) => {
    const s = sim(
      v,
      destList(5, () => 2),
    );
    const before = flows(s, 600);
    const victim = s.svc.dests[1];
    s.setWeight(victim.key, 0);
    const after = flows(s, 600);
    for (let i = 0; i < before.length; i++) {
      if (before[i] === victim.key) expect(after[i]).not.toBe(victim.key);
      else expect(after[i]).toBe(before[i]);
    }
  },
  true,
);
