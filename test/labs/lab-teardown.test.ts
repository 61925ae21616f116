/**
 * labUp never leaves half a lab behind: a failure at any build step removes everything it made;
 * labDown cleans up a lab whose state file is gone; up refuses to build over an existing lab.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { type BuildStep, labDown, labUp } from "../../src/lab/build.ts";
import { addNamespace, LabError, listNamespaces, namespacePids } from "../../src/lab/netns.ts";
import { statePath } from "../../src/lab/state.ts";
import { SKIP_LABS, skipWhy } from "./helpers.ts";

const PREFIX = "uvst-labfail";
const ours = () => listNamespaces().filter((n) => n.startsWith(`${PREFIX}-`));

afterAll(async () => {
  if (!SKIP_LABS) await labDown(PREFIX);
}, 30_000);

const STEPS: BuildStep[] = ["namespaces", "wires", "addresses", "realservers", "http"];

for (const failAt of STEPS)
  test.skipIf(SKIP_LABS)(
    skipWhy(`labUp failing at "${failAt}" removes every namespace and process it made`),
    async () => {
      const seen: BuildStep[] = [];
      const boom = new LabError(`injected failure at ${failAt}`);
      const up = labUp("dr", {
        prefix: PREFIX,
        onStep: (s) => {
          seen.push(s);
          if (s === failAt) throw boom;
        },
      });
      await expect(up).rejects.toBe(boom);
      expect(seen.at(-1)).toBe(failAt);
      expect(ours()).toEqual([]);
      expect(existsSync(statePath(PREFIX))).toBe(false);
    },
    30_000,
  );

test.skipIf(SKIP_LABS)(
  skipWhy("labDown without the state file still stops every process living in the lab's namespaces"),
  async () => {
    const lab = await labUp("nat", { prefix: PREFIX });
    rmSync(statePath(PREFIX)); // as if `up` had crashed before writing it
    const extra = Bun.spawn(["ip", "netns", "exec", lab.ns("director"), "sleep", "60"], { stdin: "ignore" });
    try {
      await Bun.sleep(100);
      const inside = [...namespacePids(lab.ns("rs1")), ...namespacePids(lab.ns("director"))];
      expect(inside.length).toBe(2); // rs1's HTTP server and the sleep
      const r = await labDown(PREFIX);
      expect(r.processes).toBe(3); // both HTTP servers and the sleep
      expect(await extra.exited).not.toBe(0);
      for (const p of inside) expect(() => process.kill(p, 0)).toThrow();
      expect(ours()).toEqual([]);
    } finally {
      extra.kill("SIGKILL");
    }
  },
  30_000,
);

test.skipIf(SKIP_LABS)(
  skipWhy("labDown removes a lab's namespaces even without its state file; labUp refuses to build over them"),
  async () => {
    addNamespace(`${PREFIX}-rs1`);
    addNamespace(`${PREFIX}-br`);
    await expect(labUp("dr", { prefix: PREFIX })).rejects.toThrow(
      /already \(partly\) up: .*uvst-labfail-rs1/,
    );
    expect(ours().sort()).toEqual([`${PREFIX}-br`, `${PREFIX}-rs1`]); // refusing did not remove them
    const r = await labDown(PREFIX);
    expect(r.namespaces.sort()).toEqual([`${PREFIX}-br`, `${PREFIX}-rs1`]);
    expect(ours()).toEqual([]);
  },
  30_000,
);

test.skipIf(SKIP_LABS)(skipWhy("labUp refuses a prefix that is not a plain name"), async () => {
  await expect(labUp("dr", { prefix: "../etc" })).rejects.toThrow(/letters, digits and dashes/);
});
