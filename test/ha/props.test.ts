/** Random event sequences keep the machine's invariants (fast-check), for single and synced instances. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { initialState, type MachineState, step, type VrrpEvent } from "../../src/ha/vrrp-machine.ts";
import { stepGroup } from "../../src/ha/vrrp-sync.ts";
import { advertFor, ip } from "./helpers.ts";
import { params, VIP } from "./sim.ts";

const SRC = [ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.9")];

const eventArb: fc.Arbitrary<VrrpEvent> = fc.oneof(
  fc.constant({ type: "start" } as const),
  fc.constant({ type: "shutdown" } as const),
  fc
    .constantFrom("master_down", "advert", "garp", "garp_refresh")
    .map((timer) => ({ type: "timer" as const, timer })),
  fc.record({ p: fc.integer({ min: 0, max: 255 }), s: fc.nat(2), v3: fc.boolean() }).map(({ p, s, v3 }) => ({
    type: "advert" as const,
    src: SRC[s],
    advert: advertFor(VIP, { version: v3 ? 3 : 2, priority: p }),
  })),
  fc.constantFrom("a", "b").map((source) => ({ type: "fault" as const, source })),
  fc.constantFrom("a", "b").map((source) => ({ type: "recover" as const, source })),
  fc
    .record({ source: fc.constantFrom("x", "y"), delta: fc.integer({ min: -253, max: 253 }) })
    .map((w) => ({ type: "weight" as const, ...w })),
  fc.constantFrom("master", "backup", "fault").map((to) => ({ type: "sync" as const, to: to as "master" })),
);

/** Timers match the state: what "always scheduled" means per state. */
function checkInvariants(s: MachineState, vipsHeld: boolean): void {
  expect(["init", "backup", "master", "fault", "stopped"]).toContain(s.name);
  const t = s.timers;
  if (s.name === "master") {
    expect(t.advert).toBeDefined();
    expect(t.master_down).toBeUndefined();
  } else if (s.name === "backup") {
    expect(t.master_down).toBeDefined();
    expect([t.advert, t.garp, t.garp_refresh]).toEqual([undefined, undefined, undefined]);
  } else expect(t).toEqual({});
  expect(vipsHeld).toBe(s.name === "master");
}

const paramsArb = fc.record({
  version: fc.constantFrom(2 as const, 3 as const),
  basePriority: fc.integer({ min: 1, max: 255 }),
  nopreempt: fc.boolean(),
  preemptDelayMs: fc.constantFrom(0, 4000),
  initialState: fc.constantFrom("MASTER" as const, "BACKUP" as const),
});

describe("machine invariants", () => {
  test("one state at a time, timers armed as the state needs, VIPs held exactly while master", () => {
    fc.assert(
      fc.property(paramsArb, fc.array(fc.tuple(eventArb, fc.nat(3000)), { maxLength: 60 }), (p, steps) => {
        let s = initialState(params({ localAddr: SRC[1], ...p }));
        let now = 0;
        let vips = false;
        for (const [ev, dt] of steps) {
          now += dt;
          // a timer event fires at its deadline, as the socket side would
          if (ev.type === "timer" && s.timers[ev.timer] !== undefined)
            now = Math.max(now, s.timers[ev.timer]!);
          const r = step(s, ev, now);
          for (const a of r.actions) {
            if (a.type === "add_vips") vips = true;
            if (a.type === "remove_vips") vips = false;
            if (a.type === "schedule") expect(a.at).toBeGreaterThanOrEqual(now);
            if (a.type === "send_advert") expect(a.priority).toBeGreaterThanOrEqual(0);
          }
          s = r.state;
          checkInvariants(s, vips);
        }
      }),
      { numRuns: 500 },
    );
  });

  test("the reducer never changes its input state", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 30 }), (evs) => {
        let s = initialState(params({ localAddr: SRC[1] }));
        let now = 0;
        for (const ev of evs) {
          const snapshot = structuredClone(s);
          now += 500;
          const r = step(s, ev, now);
          expect(s).toEqual(snapshot);
          s = r.state;
        }
      }),
    );
  });

  test("sync group members never end a step in different states once both left init", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("VI_1", "VI_2"), eventArb), { maxLength: 40 }), (evs) => {
        const members = ["VI_1", "VI_2"];
        let states: Record<string, MachineState> = {
          VI_1: initialState(params({ name: "VI_1", localAddr: SRC[1], inSyncGroup: true })),
          VI_2: initialState(params({ name: "VI_2", localAddr: SRC[1], inSyncGroup: true })),
        };
        let now = 0;
        for (const [who, ev] of evs) {
          if (ev.type === "sync" || ev.type === "start" || ev.type === "shutdown") continue;
          if (ev.type === "timer" && states[who].timers[ev.timer] !== undefined)
            now = Math.max(now, states[who].timers[ev.timer]!);
          states = stepGroup(states, members, who, ev, now).states;
        }
        // start both, then every state-changing step must leave them equal
        for (const m of members) states = stepGroup(states, members, m, { type: "start" }, now).states;
        for (const [who, ev] of evs) {
          if (ev.type === "sync" || ev.type === "start" || ev.type === "shutdown") continue;
          now += 100;
          if (ev.type === "timer" && states[who].timers[ev.timer] !== undefined)
            now = Math.max(now, states[who].timers[ev.timer]!);
          states = stepGroup(states, members, who, ev, now).states;
          expect(states.VI_1.name).toBe(states.VI_2.name);
        }
      }),
      { numRuns: 300 },
    );
  });
});
