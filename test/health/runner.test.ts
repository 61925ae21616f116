/**
 * The runner with a fake clock and fake checkers: transitions within delay_loop + connect_timeout,
 * shared checks across services, state kept over a reload, inhibit, dynamic weight, sorry server
 * with quorum, alpha, and the overlay it hands the daemon.
 */
import { expect, test } from "bun:test";
import type { CheckContext } from "../../src/health/checker.ts";
import { FakeClock } from "../../src/health/clock.ts";
import type { CheckResult } from "../../src/health/result.ts";
import { HealthRunner } from "../../src/health/runner.ts";
import { parseRules } from "../../src/rules/load.ts";
import type { RulesConfig } from "../../src/rules/model.ts";

function load(text: string): RulesConfig {
  const r = parseRules("/t/uvs.conf", text);
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return r.config;
}

/** Fake checkers: the health of each port is a flag the test flips; each check takes 10 ms. */
function world() {
  const healthy = new Map<number, boolean>();
  const weights = new Map<number, number>();
  const calls: number[] = [];
  const clock = new FakeClock();
  const changes: number[] = [];
  const logs: string[] = [];
  const check = async ({ spec }: CheckContext): Promise<CheckResult> => {
    calls.push(spec.port);
    const ok = healthy.get(spec.port) ?? true;
    return {
      ok,
      message: `${spec.type} ${spec.port}: ${ok ? "ok" : "down"}`,
      latencyMs: 1,
      at: 0,
      weight: weights.get(spec.port),
    };
  };
  const runner = new HealthRunner({
    clock,
    onChange: () => changes.push(clock.now()),
    log: (_l, msg, f) => logs.push(`${msg} ${JSON.stringify(f ?? {})}`),
    checkerFor: () => check,
    bootstrapMs: 1000,
    random: () => 0,
  });
  const live = (c: RulesConfig) =>
    runner
      .overlay(c)
      .services.map((s) =>
        s.dests.map((d) => `${d.config.addr.text}:${d.config.port}/${d.config.weight}`).join(" "),
      );
  return { healthy, weights, calls, clock, changes, logs, runner, live };
}

const rs = (port: number, check: string, extra = "") =>
  `  real_server 127.0.0.1 ${port} {\n    weight 2\n${extra}    ${check}\n  }\n`;
const vs = (vport: number, body: string, opts = "") =>
  `virtual_server 127.0.0.1 ${vport} {\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n  delay_loop 6\n${opts}${body}}\n`;
const TCP = "TCP_CHECK {\n      connect_timeout 2\n    }";

test("a failed server leaves the live table within delay_loop + connect_timeout and comes back after one success", async () => {
  const w = world();
  const c = load(vs(80, rs(8001, TCP) + rs(8002, TCP)));
  w.runner.update(c);
  expect(w.live(c)).toEqual(["127.0.0.1:8001/2 127.0.0.1:8002/2"]); // keepalived starts them up
  await w.clock.advance(1000); // first checks
  w.healthy.set(8001, false);
  const t0 = w.clock.now();
  // retry 1: two failures, delay_before_retry (1 s) apart, the first within delay_loop.
  await w.clock.advance(6000 + 2000);
  expect(w.live(c)).toEqual(["127.0.0.1:8002/2"]);
  expect(w.changes.at(-1)! - t0).toBeLessThanOrEqual(6000 + 1000 + 2000);
  expect(w.logs.some((l) => l.startsWith("real server 127.0.0.1:8001 DOWN: removed"))).toBe(true);
  w.healthy.set(8001, true);
  await w.clock.advance(6000);
  expect(w.live(c)).toEqual(["127.0.0.1:8001/2 127.0.0.1:8002/2"]);
  // Both announcements name the result behind them (the UP one once said reason="").
  expect(w.logs).toContain(
    'real server 127.0.0.1:8001 DOWN: removed {"service":"tcp:127.0.0.1:80","reason":"TCP_CHECK 8001: down"}',
  );
  expect(w.logs).toContain(
    'real server 127.0.0.1:8001 UP: added {"service":"tcp:127.0.0.1:80","reason":"TCP_CHECK 8001: ok"}',
  );
  const e = w.runner.entries().find((x) => x.server === "127.0.0.1:8001")!;
  expect(e).toMatchObject({ service: "tcp:127.0.0.1:80", checker: "TCP_CHECK", state: "up" });
  expect(e.last).toMatchObject({ ok: true, message: "TCP_CHECK 8001: ok" });
  w.runner.stop();
  expect(w.clock.pending).toBe(0);
});

test("one check that fails once and recovers does not flap the table (retry 1)", async () => {
  const w = world();
  const c = load(vs(80, rs(8001, TCP)));
  w.runner.update(c);
  await w.clock.advance(1000);
  w.healthy.set(8001, false);
  await w.clock.advance(6000); // one failure: a silent retry is scheduled
  w.healthy.set(8001, true);
  await w.clock.advance(1000);
  expect(w.changes).toEqual([]);
  expect(w.live(c)).toEqual(["127.0.0.1:8001/2"]);
  w.runner.stop();
});

test("identical checks against one target run once, shared across services", async () => {
  const w = world();
  const c = load(vs(80, rs(8001, TCP)) + vs(81, rs(8001, TCP)));
  w.runner.update(c);
  expect(w.runner.probeCount).toBe(1);
  expect(w.runner.entries()).toHaveLength(2);
  await w.clock.advance(1000 + 6000 * 2);
  expect(w.calls).toEqual([8001, 8001, 8001]);
  w.runner.stop();
});

test("a reload keeps unchanged checks and their state (a failed server stays out)", async () => {
  const w = world();
  const c1 = load(vs(80, rs(8001, TCP) + rs(8002, TCP)));
  w.runner.update(c1);
  w.healthy.set(8001, false);
  await w.clock.advance(1000);
  expect(w.live(c1)).toEqual(["127.0.0.1:8002/2"]);
  const c2 = load(vs(80, rs(8001, TCP) + rs(8002, TCP) + rs(8003, TCP)));
  w.runner.update(c2);
  expect(w.live(c2)).toEqual(["127.0.0.1:8002/2 127.0.0.1:8003/2"]);
  expect(w.runner.probeCount).toBe(3);
  w.runner.update(load(vs(80, rs(8002, TCP))));
  expect(w.runner.probeCount).toBe(1);
  w.runner.stop();
});

test("inhibit_on_failure keeps a failed server at weight 0; alpha starts it out", async () => {
  const w = world();
  const c = load(vs(80, rs(8001, TCP) + rs(8002, TCP), "  inhibit_on_failure\n  alpha\n"));
  w.runner.update(c);
  expect(w.live(c)).toEqual(["127.0.0.1:8001/0 127.0.0.1:8002/0"]);
  w.healthy.set(8002, false);
  await w.clock.advance(1000);
  expect(w.live(c)).toEqual(["127.0.0.1:8001/2 127.0.0.1:8002/0"]);
  w.runner.stop();
});

test("MISC_CHECK misc_dynamic weight replaces the configured weight", async () => {
  const w = world();
  const misc = 'MISC_CHECK {\n      misc_path "/bin/true"\n      misc_dynamic\n    }';
  const c = load(vs(80, rs(0, misc).replace("127.0.0.1 0", "127.0.0.1 8001")));
  w.weights.set(8001, 7);
  w.runner.update(c);
  await w.clock.advance(1000);
  expect(w.live(c)).toEqual(["127.0.0.1:8001/7"]);
  w.runner.stop();
});

test("the sorry server takes over when the quorum is lost and gives back when it returns", async () => {
  const w = world();
  const c = load(
    vs(80, rs(8001, TCP) + rs(8002, TCP), '  sorry_server 127.0.0.1 9000\n  quorum_up "/bin/true"\n'),
  );
  w.runner.update(c);
  w.healthy.set(8001, false);
  await w.clock.advance(1000);
  expect(w.live(c)).toEqual(["127.0.0.1:8002/2"]); // live 2 ≥ quorum 1
  w.healthy.set(8002, false);
  await w.clock.advance(6000 + 1000);
  expect(w.live(c)).toEqual(["127.0.0.1:9000/1"]);
  expect(
    w.logs.some((l) => l.startsWith('quorum lost {"service":"tcp:127.0.0.1:80","sorry_server":"on"}')),
  ).toBe(true);
  w.healthy.set(8002, true);
  await w.clock.advance(6000);
  expect(w.live(c)).toEqual(["127.0.0.1:8002/2"]);
  w.runner.stop();
});

test("a real server with two checkers is alive only when both are up", async () => {
  const w = world();
  const two = `${TCP}\n    TCP_CHECK {\n      connect_port 9100\n    }`;
  const c = load(vs(80, rs(8001, two)));
  w.runner.update(c);
  w.healthy.set(9100, false);
  await w.clock.advance(1000);
  expect(w.live(c)).toEqual([""]);
  expect(w.runner.entries().map((e) => e.state)).toEqual(["up", "down"]);
  w.runner.stop();
});
