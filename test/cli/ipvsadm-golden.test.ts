/**
 * Golden outputs of the real ipvsadm 1.31 (fixtures/ipvsadm): every command of every scenario and
 * every errors.json case must match stdout, stderr and exit code byte for byte.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type CommandCase,
  type ErrorCase,
  FIXTURES,
  loadSnapshot,
  readJson,
  run,
  scenarioDirs,
} from "./helpers.ts";

const HAVE_SERVICES = existsSync("/etc/services");

for (const dir of scenarioDirs()) {
  describe(`scenario ${dir}`, () => {
    const snap = loadSnapshot(join(FIXTURES, dir, "scenario.json"));
    for (const c of readJson<CommandCase[]>(join(FIXTURES, dir, "commands.json"))) {
      // L.txt/S.txt name ports from /etc/services (Debian netbase); without that file they cannot match.
      const runIt = c.environment_dependent && !HAVE_SERVICES ? test.skip : test;
      runIt(`${c.file}: ${c.argv.join(" ")}`, async () => {
        const r = await run(snap, c.argv.slice(1));
        expect(r.stdout).toBe(readFileSync(join(FIXTURES, dir, c.file), "utf8"));
        expect(r.stderr).toBe(c.stderr);
        expect(r.code).toBe(c.exit_code);
      });
    }
  });
}

describe("errors.json", () => {
  for (const e of readJson<ErrorCase[]>(join(FIXTURES, "errors.json"))) {
    test(`${e.id}: ${e.argv.join(" ")}`, async () => {
      const snap = loadSnapshot(join(FIXTURES, "errors_tables", `${e.table}.json`));
      const initError = e.environment === "no_ipvs_in_kernel" ? "Object not found" : undefined;
      const r = await run(snap, e.argv.slice(1), { stdin: e.stdin ?? undefined, initError });
      expect(r.stdout).toBe(e.stdout);
      expect(r.stderr).toBe(e.stderr);
      expect(r.code).toBe(e.exit_code);
    });
  }
});
