/** The kernel-produced decision sequences in fixtures/sched, replayed through the harness. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hash32 } from "../../src/sched/hash.ts";
import { MH_HASH1, MH_TAB_SIZE, mhHashkey } from "../../src/sched/mh.ts";
import { shHashkey } from "../../src/sched/sh.ts";
import { SCHED_FIXTURE_DIR } from "../helpers/sched-fixture.ts";
import { type DestSpec, type Op, type ServiceSpec, Sim } from "./harness.ts";

interface Fixture {
  name: string;
  service: ServiceSpec;
  destinations: DestSpec[];
  kernel_list_order_initial?: string[];
  ops: Op[];
  expect: (string | null)[];
  expect_linux_6_12?: (string | null)[];
  debug_hash_inputs?: { key: number; bucket?: number; hsiphash?: number; slot?: number }[];
}

const DIR = SCHED_FIXTURE_DIR;
const files = readdirSync(DIR).filter((f) => f.endsWith(".json"));

describe("kernel fixtures", () => {
  test("the fixtures are there", () => expect(files.length).toBeGreaterThan(0));
  for (const file of files) {
    const fx = JSON.parse(readFileSync(join(DIR, file), "utf8")) as Fixture;
    test(`${fx.name}: decisions match Linux 6.12`, () => {
      const sim = new Sim(fx.service, fx.destinations);
      if (fx.kernel_list_order_initial) expect(sim.order()).toEqual(fx.kernel_list_order_initial);
      expect(sim.run(fx.ops)).toEqual(fx.expect_linux_6_12 ?? fx.expect);
    });
    const hashes = fx.debug_hash_inputs;
    if (!hashes) continue;
    test(`${fx.name}: hash inputs give the kernel's bucket/slot`, () => {
      for (const h of hashes) {
        if (h.bucket !== undefined) {
          if (fx.service.scheduler === "sh") expect(shHashkey(h.key, 0, 0)).toBe(h.bucket);
          else expect(hash32(h.key, 8)).toBe(h.bucket);
        }
        if (h.hsiphash !== undefined) expect(mhHashkey(MH_HASH1, h.key, 0, 0)).toBe(h.hsiphash);
        if (h.slot !== undefined) expect(mhHashkey(MH_HASH1, h.key, 0, 0) % MH_TAB_SIZE).toBe(h.slot);
      }
    });
  }
});
