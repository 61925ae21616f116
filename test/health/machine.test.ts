/** keepalived's checker state machine and quorum, table-driven (GLB dampener-style sequences). */
import { describe, expect, test } from "bun:test";
import { initialState, type MachineConfig, step } from "../../src/health/machine.ts";
import { quorumStep } from "../../src/health/quorum.ts";

/** Feed results; the up/down state after each one. */
function run(cfg: MachineConfig, alpha: boolean, results: boolean[]): { states: string; delays: number[] } {
  let s = initialState(cfg, alpha);
  const states: string[] = [];
  const delays: number[] = [];
  for (const ok of results) {
    const r = step(cfg, s, ok);
    s = r.state;
    states.push(s.up ? "U" : "D");
    delays.push(r.next);
  }
  return { states: states.join(""), delays };
}

const cfg = (retry: number, urls = 1): MachineConfig => ({
  retry,
  delayLoop: 6000,
  delayBeforeRetry: 1000,
  urls,
});
const seq = (s: string) => [...s].map((c) => c === "+");

describe("checker state machine", () => {
  test.each([
    ["first failure after start marks down at once (retry_it pre-set)", 1, false, "-", "D"],
    ["up server goes down after retry+1 consecutive failures", 1, false, "+--", "UUD"],
    ["retry 3 needs four failures", 3, false, "+----", "UUUUD"],
    ["a success in between resets the count", 1, false, "+-+-+-", "UUUUUU"],
    ["down comes back after one success", 1, false, "-+", "DU"],
    ["MISC default retry 0: one failure", 0, false, "+-", "UD"],
    ["alpha starts down; one success brings it up", 1, true, "+", "U"],
    ["alpha stays down on failures", 1, true, "--", "DD"],
    ["flapping every other check never goes down with retry 1", 1, false, "++-+-+-+", "UUUUUUUU"],
    ["flapping two-and-one goes down and comes back", 1, false, "+--+--+", "UUDUUDU"],
  ])("%s", (_name, retry, alpha, input, want) => {
    expect(run(cfg(retry as number), alpha as boolean, seq(input as string)).states).toBe(want as string);
  });

  test("silent retries wait delay_before_retry, others delay_loop", () => {
    expect(run(cfg(2), false, seq("+---+")).delays).toEqual([6000, 1000, 1000, 6000, 6000]);
  });

  test("the first check's mark is reported even when the state does not change", () => {
    const c = cfg(1);
    expect(step(c, initialState(c, false), true).mark).toBe("up");
    expect(step(c, initialState(c, true), false).mark).toBe("down");
  });

  test("HTTP with two URLs: up only after a full sweep; while down only the failed URL is probed", () => {
    const c = cfg(0, 2);
    let s = initialState(c, false);
    const urls: number[] = [];
    for (const ok of seq("+-+-")) {
      urls.push(s.url);
      s = step(c, s, ok).state;
    }
    // URL0 ok, URL1 fails (down), URL1 passes again → the sweep restarts at URL0, which now fails.
    expect(urls).toEqual([0, 1, 1, 0]);
    expect(s.up).toBe(false);
    expect(s.url).toBe(0); // only the failed URL0 is probed now
    s = step(c, s, true).state; // URL0 passes: sweep restarts
    s = step(c, s, true).state; // URL0
    expect(s.up).toBe(false);
    s = step(c, s, true).state; // URL1: the whole sweep passed
    expect(s.up).toBe(true);
  });
});

describe("quorum with hysteresis (§2.6)", () => {
  const q = (live: number) => ({ live, total: 10, quorum: 7, hysteresis: 2 });
  test("startup: up iff live ≥ quorum + hysteresis", () => {
    expect(quorumStep(null, q(9))).toBe(true);
    expect(quorumStep(null, q(8))).toBe(false);
  });
  test("10 servers, quorum 7, hysteresis 2: a pool moving between 5 and 8 does not flap", () => {
    let up: boolean | null = null;
    const states: boolean[] = [];
    for (const live of [10, 8, 6, 5, 4, 6, 8, 9, 6]) {
      up = quorumStep(up, q(live));
      states.push(up);
    }
    expect(states).toEqual([true, true, true, true, false, false, false, true, true]);
  });
  test("live 0 always loses; quorum above the total weight is clamped", () => {
    expect(quorumStep(true, { live: 0, total: 3, quorum: 1, hysteresis: 0 })).toBe(false);
    expect(quorumStep(null, { live: 3, total: 3, quorum: 50, hysteresis: 0 })).toBe(true);
  });
});
