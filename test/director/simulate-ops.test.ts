import { describe, expect, test } from "bun:test";
import { Simulation } from "../../src/director/simulate.ts";
import { directorFromSnapshot } from "../../src/director/snapshot-io.ts";
import { validateSnapshot } from "../../src/model/snapshot.ts";

function sim(): Simulation {
  const snap = validateSnapshot({
    services: [{ protocol: "tcp", address: "192.0.2.1", port: 80, scheduler: "mh" }],
  });
  return new Simulation(directorFromSnapshot(snap));
}

describe("simulate: edit_service's sched_flags", () => {
  test("known flag names are taken; unknown ones, Object's own property names and non-strings are refused by name", () => {
    const s = sim();
    expect(s.run(JSON.stringify({ op: "edit_service", sched_flags: ["mh-fallback"] }), 1)).toBeNull();
    for (const [f, shown] of [
      ["bogus", '"bogus"'],
      ["toString", '"toString"'],
      ["__proto__", '"__proto__"'],
      [{ toString: null }, '{"toString":null}'],
      [7, "7"],
    ] as const) {
      const out = JSON.parse(s.run(JSON.stringify({ op: "edit_service", sched_flags: [f] }), 2) ?? "null");
      expect(out).toEqual({ error: `sched_flags: unknown flag ${shown}`, line: 2 });
    }
  });
});
