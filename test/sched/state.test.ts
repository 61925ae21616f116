/** Scheduler state that decision sequences alone do not show: the mh table, lblc/lblcr expiry, the registry. */
import { describe, expect, test } from "bun:test";
import type { Dest } from "../../src/model/dest.ts";
import { type MaglevHashing, MH_TAB_SIZE } from "../../src/sched/mh.ts";
import { createScheduler, SCHEDULER_NAMES } from "../../src/sched/registry.ts";
import { type DestSpec, d, destList, Sim } from "./harness.ts";

const M1 = "192.168.10.1:80";
const M2 = "192.168.10.2:80";
const M3 = "192.168.10.3:80";

function mhSim(dests: DestSpec[], flags: string[] = []): { sim: Sim; slot: (i: number) => Dest | null } {
  const sim = new Sim({ scheduler: "mh", sched_flags: flags }, dests);
  const sched = sim.sched as unknown as MaglevHashing;
  return { sim, slot: (i) => sched.slot(i) };
}

function slotCounts(slot: (i: number) => Dest | null): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < MH_TAB_SIZE; i++) {
    const k = slot(i)?.key ?? "empty";
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

describe("mh table build", () => {
  test("each dest first claims its offset, then offset + skip (Appendix B offsets/skips)", () => {
    const { slot } = mhSim([d(M1), d(M2), d(M3)]); // list order M3, M2, M1
    expect(slot(3093)?.key).toBe(M3);
    expect(slot(3679)?.key).toBe(M2);
    expect(slot(3189)?.key).toBe(M1);
    expect(slot((3093 + 3776) % MH_TAB_SIZE)?.key).toBe(M3);
    expect(slot((3679 + 3377) % MH_TAB_SIZE)?.key).toBe(M2);
    expect(slot((3189 + 175) % MH_TAB_SIZE)?.key).toBe(M1);
  });

  test("clients 10.0.0.1 / 10.0.0.2 use slots 3711 / 1884", () => {
    const { sim, slot } = mhSim([d(M1), d(M2), d(M3)]);
    expect(sim.pick("10.0.0.1:5000")?.key).toBe(slot(3711)!.key);
    expect(sim.pick("10.0.0.2:5000")?.key).toBe(slot(1884)!.key);
  });

  test("equal weights fill the table evenly, one slot per turn", () => {
    const { slot } = mhSim([d(M1), d(M2), d(M3)]);
    // 4093 = 3 * 1364 + 1: the list head (M3) takes the last slot
    expect(slotCounts(slot)).toEqual(
      new Map([
        [M3, 1365],
        [M2, 1364],
        [M1, 1364],
      ]),
    );
  });

  test("weights 2:1 give consecutive turns in list order", () => {
    expect(slotCounts(mhSim([d(M2, 1), d(M1, 2)]).slot)).toEqual(
      new Map([
        [M1, 2729],
        [M2, 1364],
      ]),
    );
    expect(slotCounts(mhSim([d(M1, 2), d(M2, 1)]).slot)).toEqual(
      new Map([
        [M2, 1365],
        [M1, 2728],
      ]),
    );
  });

  test("large weights are shifted: 1000:1 -> turns 62:1 (rshift = fls(1000) - 6 = 4)", () => {
    expect(slotCounts(mhSim([d(M2, 1), d(M1, 1000)]).slot)).toEqual(
      new Map([
        [M1, 4029],
        [M2, 64],
      ]),
    );
  });

  test("quiescing keeps the table (last_weight); deleting rebuilds it", () => {
    const { sim, slot } = mhSim([d(M1), d(M2), d(M3)]);
    const before = slotCounts(slot);
    sim.setWeight(M2, 0);
    expect(slotCounts(slot)).toEqual(before);
    sim.delDest(M2);
    expect(slotCounts(slot)).toEqual(
      new Map([
        [M3, 2047],
        [M1, 2046],
      ]),
    );
  });

  test("a dest added with weight 0 (last_weight 0) owns no slot", () => {
    expect(slotCounts(mhSim([d(M1, 0), d(M2), d(M3)]).slot)).toEqual(
      new Map([
        [M3, 2047],
        [M2, 2046],
      ]),
    );
  });

  test("all last_weight 0 (dests added with weight 0) leaves the table empty", () => {
    const { sim, slot } = mhSim([d(M1, 0), d(M2, 0)]);
    expect(slotCounts(slot)).toEqual(new Map([["empty", MH_TAB_SIZE]]));
    expect(sim.pick("10.0.0.1:1")).toBeNull();
  });

  test("mh-fallback finds another dest for a quiesced slot; plain mh fails", () => {
    const plain = mhSim([d(M1), d(M2), d(M3)]);
    const fb = mhSim([d(M1), d(M2), d(M3)], ["mh-fallback"]);
    const owner = plain.slot(3711)!.key;
    plain.sim.setWeight(owner, 0);
    fb.sim.setWeight(owner, 0);
    expect(plain.sim.pick("10.0.0.1:1")).toBeNull();
    const alt = fb.sim.pick("10.0.0.1:1");
    expect(alt).not.toBeNull();
    expect(alt!.key).not.toBe(owner);
  });

  test("mh-port: 10.0.0.0:1 hashes like 10.0.0.1 without the port", () => {
    const plain = mhSim([d(M1), d(M2), d(M3)]);
    const port = mhSim([d(M1), d(M2), d(M3)], ["mh-port"]);
    expect(port.sim.pick("10.0.0.0:1")?.key).toBe(plain.slot(3711)!.key);
    expect(port.sim.pick("10.0.0.0:2")?.key).toBe(plain.slot(1884)!.key);
  });

  test("deleting one of 10 dests keeps >= 80% of the other dests' flows (Maglev)", () => {
    const { sim } = mhSim(destList(10));
    const clients = Array.from({ length: 2000 }, (_, i) => `203.0.${i >> 8}.${i & 255}:1`);
    const before = clients.map((c) => sim.pick(c)!.key);
    const victim = before[0];
    sim.delDest(victim);
    let kept = 0;
    let total = 0;
    clients.forEach((c, i) => {
      if (before[i] === victim) return;
      total++;
      if (sim.pick(c)!.key === before[i]) kept++;
    });
    expect(kept / total).toBeGreaterThanOrEqual(0.8);
  });
});

interface Cached {
  cachedEntries(): number;
}

describe("lblc/lblcr cache expiry (timer every 60 s, full check every 30th firing)", () => {
  for (const name of ["lblc", "lblcr"]) {
    const opts = name === "lblc" ? { lblcExpiration: 600 } : { lblcrExpiration: 600 };
    test(`${name}: an idle entry survives until the full check at 30 min`, () => {
      const sim = new Sim({ scheduler: name }, [d("198.51.100.11:80")], opts);
      const cache = sim.sched as unknown as Cached;
      sim.connect("203.0.113.7:1", "192.0.2.50:80");
      expect(cache.cachedEntries()).toBe(1);
      sim.advance(29 * 60);
      expect(cache.cachedEntries()).toBe(1);
      sim.advance(60);
      expect(cache.cachedEntries()).toBe(0);
    });
    test(`${name}: use refreshes lastuse, so the entry lives to the next full check`, () => {
      const sim = new Sim({ scheduler: name }, [d("198.51.100.11:80")], opts);
      const cache = sim.sched as unknown as Cached;
      sim.connect("203.0.113.7:1", "192.0.2.50:80");
      sim.advance(25 * 60);
      sim.connect("203.0.113.7:2", "192.0.2.50:80");
      sim.advance(5 * 60); // t = 30 min: 1800 s < 1500 s + 600 s
      expect(cache.cachedEntries()).toBe(1);
      sim.advance(30 * 60 - 1);
      expect(cache.cachedEntries()).toBe(1);
      sim.advance(1); // t = 60 min: second full check
      expect(cache.cachedEntries()).toBe(0);
    });
  }

  test("lblc: above 16384 entries, entries idle >= 6 min are collected up to the goal", () => {
    const sim = new Sim({ scheduler: "lblc" }, [d("198.51.100.11:80"), d("198.51.100.12:80")]);
    const cache = sim.sched as unknown as Cached;
    const n = 17000;
    for (let i = 0; i < n; i++)
      sim.pick("203.0.113.7:1", `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80`);
    sim.advance(5 * 60); // entries are only 5 min idle: nothing collected yet
    expect(cache.cachedEntries()).toBe(n);
    sim.advance(60); // t = 6 min: goal = (17000 - 16384) * 4 / 3 = 821, whole chains removed
    const left = cache.cachedEntries();
    expect(n - left).toBeGreaterThanOrEqual(821);
    expect(n - left).toBeLessThan(821 + 60);
    sim.advance(60); // now below 16384: nothing more
    expect(cache.cachedEntries()).toBe(left);
  });
});

describe("registry", () => {
  test("knows the 14 kernel schedulers and nothing else", () => {
    expect([...SCHEDULER_NAMES].sort() as string[]).toEqual(
      ["dh", "fo", "lblc", "lblcr", "lc", "mh", "nq", "ovf", "rr", "sed", "sh", "twos", "wlc", "wrr"].sort(),
    );
    const svc = new Sim({ scheduler: "rr" }).svc;
    for (const name of SCHEDULER_NAMES) expect(createScheduler(name, svc, 0)?.name).toBe(name);
    for (const bad of ["", "none", "RR", "wlc ", "maglev"]) expect(createScheduler(bad, svc, 0)).toBeNull();
  });

  test("twos draws from the injected source, two values per pick", () => {
    let calls = 0;
    const sim = new Sim({ scheduler: "twos" }, [d("198.51.100.11:80"), d("198.51.100.12:80")], {
      random: () => {
        calls++;
        return 0;
      },
    });
    for (let i = 0; i < 5; i++) sim.connect(`203.0.113.7:${i + 1}`);
    expect(calls).toBe(10);
  });

  test("twos default source works without injection", () => {
    const sim = new Sim({ scheduler: "twos" }, [d("198.51.100.11:80"), d("198.51.100.12:80")]);
    for (let i = 0; i < 20; i++) expect(sim.connect(`203.0.113.7:${i + 1}`)).not.toBeNull();
  });
});
