/**
 * Reliability (issue 3 §7): 50 reloads of the rules file during a 10-second wrk run produce zero
 * failed requests. wrk comes from Debian's package (.ci/run installs it).
 */
import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { connectControl } from "../../src/control/client.ts";
import { freePort, namedServer, rulesFile, startDaemon } from "../helpers/daemon.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const wrk = Bun.which("wrk");

test.skipIf(!wrk)(
  "50 reloads during a 10 s wrk run: zero failed requests (needs wrk)",
  async () => {
    const a = namedServer("a");
    const b = namedServer("b");
    cleanups.push(
      () => a.stop(true),
      () => b.stop(true),
    );
    const vip = await freePort();
    const d = await startDaemon(rulesFile(vip, [{ port: a.port! }, { port: b.port! }]));
    cleanups.push(() => d.stop());
    const load = Bun.spawn(["wrk", "-t2", "-c32", "-d10s", `http://127.0.0.1:${vip}/`], {
      stdout: "pipe",
      stderr: "pipe",
    });
    cleanups.push(() => load.kill());
    // Alternate the weights every 190 ms: each rewrite is a real change the daemon must apply.
    let reloads = 0;
    for (let i = 0; i < 50; i++) {
      await Bun.sleep(190);
      writeFileSync(
        d.rules,
        rulesFile(vip, [
          { port: a.port!, weight: 1 + (i % 2) },
          { port: b.port!, weight: 2 - (i % 2) },
        ]),
      );
      const c = await connectControl(d.control);
      const r = await c.call("reload", {});
      c.close();
      if (r.applied) reloads++;
    }
    const out = await new Response(load.stdout).text();
    await load.exited;
    const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
    expect(reloads).toBe(50);
    expect(requests).toBeGreaterThan(1000);
    expect(out).not.toContain("Socket errors");
    expect(out).not.toContain("Non-2xx");
  },
  30_000,
);
