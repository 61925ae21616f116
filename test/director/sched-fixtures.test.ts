/**
 * The kernel's own scheduler decisions (fixtures/sched) through `uvs simulate`'s engine: the
 * snapshot is built the way an operator would have built the table, the ops are fed line by line.
 */
import { describe, expect, test } from "bun:test";
import { Simulation } from "../../src/director/simulate.ts";
import { directorFromSnapshot } from "../../src/director/snapshot-io.ts";
import { seededRandom } from "../../src/sched/twos.ts";
import { expected, fixtureSnapshot, loadSchedFixtures } from "../helpers/sched-fixture.ts";

describe("kernel scheduler fixtures via simulate", () => {
  for (const f of loadSchedFixtures()) {
    test(f.name, () => {
      const sim = new Simulation(directorFromSnapshot(fixtureSnapshot(f), { random: seededRandom(1) }));
      const picks: (string | null)[] = [];
      f.ops.forEach((op, i) => {
        const out = sim.run(JSON.stringify(op), i + 1);
        if (out === null) return;
        const r = JSON.parse(out);
        expect(r.error).toBeUndefined();
        picks.push(r.dest);
      });
      expect(picks).toEqual(expected(f));
    });
  }
});
