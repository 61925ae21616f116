/**
 * The state machine against keepalived 2.2.7's observed lab timeline (spec §3.9), with an
 * injected clock: A = P150 192.0.2.1, B = P100 192.0.2.2, VRID 51, advert 1 s. Times in ms.
 */
import { describe, expect, test } from "bun:test";
import { initialState, step } from "../../src/ha/vrrp-machine.ts";
import { masterDownMs, skewMs } from "../../src/ha/vrrp-timing.ts";
import { advertFor, ip } from "./helpers.ts";
import { Lab, params, VIP } from "./sim.ts";

const A = ip("192.0.2.1");
const B = ip("192.0.2.2");
const a = (over = {}) => params({ localAddr: A, basePriority: 150, ...over });
const b = (over = {}) => params({ localAddr: B, basePriority: 100, ...over });
const close = (got: number | undefined, want: number, tol = 1) => {
  expect(got).toBeDefined();
  expect(Math.abs((got as number) - want)).toBeLessThanOrEqual(tol);
};

describe("timers (spec §3.5 worked values)", () => {
  const cases = [
    [2, 100, 100, 3609.375, 609.375],
    [2, 150, 100, 3414.0625, 414.0625],
    [2, 254, 100, 3007.8125, 7.8125],
    [2, 100, 200, 6609.375, 609.375], // v2 skew does not scale with the interval
    [3, 100, 100, 3609.375, 609.375],
    [3, 150, 50, 1707.03125, 207.03125], // v3 skew scales: 1.5 + 106×0.5/256
  ] as const;
  for (const [version, priority, intervalCs, mdi, skew] of cases) {
    test(`v${version} P${priority} A=${intervalCs}cs → Master_Down ${mdi} ms, skew ${skew} ms`, () => {
      const t = { version, priority, intervalCs, downTimerAdverts: 3 };
      expect(masterDownMs(t)).toBeCloseTo(mdi, 6);
      expect(skewMs(t)).toBeCloseTo(skew, 6);
    });
  }
});

describe("lab timeline (spec §3.9)", () => {
  test("v2: B alone becomes master after 3.609 s, sending an advert, VIPs and 5 GARPs", () => {
    const lab = new Lab().add("B", b()).at(0, "B", { type: "start" }).run(10_000);
    close(lab.became("B", "master"), 3609.375);
    const t = lab.became("B", "master")!;
    const acts = lab.log.filter((e) => e.node === "B" && e.t === t).map((e) => e.action.type);
    expect(acts.slice(0, 4)).toEqual(["become", "send_advert", "add_vips", "send_garp"]);
    expect(lab.log.find((e) => e.action.type === "send_garp")?.action).toEqual({
      type: "send_garp",
      perVip: 5,
    });
    // the second burst after garp_master_delay (5 s), adverts every second
    expect(lab.count("B", "send_garp", t + 4999, t + 5001)).toBe(1);
    expect(lab.count("B", "send_advert", t, t + 5000.5)).toBe(6);
  });

  test("v2: A (P150) joining a master B takes over by timeout after 3.414 s; B steps down silently", () => {
    const lab = new Lab()
      .add("B", b())
      .add("A", a())
      .at(0, "B", { type: "start" })
      .at(10_000, "A", { type: "start" })
      .run(20_000);
    close(lab.became("A", "master"), 10_000 + 3414.0625);
    const t = lab.became("A", "master")!;
    expect(lab.became("B", "backup", 1)).toBe(t); // same instant
    expect(lab.count("B", "send_advert", t, t)).toBe(0); // silent
    expect(lab.count("B", "remove_vips", t, t)).toBe(1);
    expect(lab.state("A")).toBe("master");
    expect(lab.state("B")).toBe("backup");
  });

  test("v2: A's SIGTERM sends priority 0 and B takes over after Skew_Time (0.609 s)", () => {
    const lab = new Lab()
      .add("A", a())
      .add("B", b())
      .at(0, "A", { type: "start" })
      .at(0, "B", { type: "start" })
      .at(8_000, "A", { type: "shutdown" })
      .run(12_000);
    expect(lab.state("A")).toBe("stopped");
    expect(lab.log.filter((e) => e.node === "A" && e.t === 8000).map((e) => e.action)).toContainEqual({
      type: "send_advert",
      priority: 0,
    });
    close(lab.became("B", "master"), 8000 + 609.375);
  });

  test("a crashed master (no priority 0) is replaced after Master_Down_Interval from its last advert", () => {
    const lab = new Lab()
      .add("A", a())
      .add("B", b())
      .at(0, "A", { type: "start" })
      .at(0, "B", { type: "start" })
      .crash(8_000, "A")
      .run(15_000);
    const lastAdvert = Math.max(
      ...lab.log.filter((e) => e.node === "A" && e.action.type === "send_advert").map((e) => e.t),
    );
    close(lab.became("B", "master", 0), lastAdvert + 3609.375);
  });

  test("v3: B alone → 3.609 s; A with state MASTER still waits 3.414 s; prio 0 → B after 0.609 s", () => {
    const lab = new Lab()
      .add("B", b({ version: 3 }))
      .add("A", a({ version: 3, initialState: "MASTER" }))
      .at(0, "B", { type: "start" })
      .at(10_000, "A", { type: "start" })
      .at(20_000, "A", { type: "shutdown" })
      .run(25_000);
    close(lab.became("B", "master"), 3609.375);
    close(lab.became("A", "master"), 13_414.0625);
    close(lab.became("B", "master", 1), 20_609.375);
  });

  test("nopreempt: A (P150) stays BACKUP beside master B; when B stops, A takes over after 0.414 s", () => {
    const lab = new Lab()
      .add("B", b())
      .add("A", a({ nopreempt: true }))
      .at(0, "B", { type: "start" })
      .at(5_000, "A", { type: "start" })
      .at(12_000, "B", { type: "shutdown" })
      .run(15_000);
    expect(lab.became("A", "master")).toBeDefined();
    close(lab.became("A", "master"), 12_000 + 414.0625);
    expect(lab.log.filter((e) => e.node === "A" && e.action.type === "become" && e.t < 12_000).length).toBe(
      1,
    );
  });

  test("preempt_delay 4 s: A becomes master 3.414 s after the last advert accepted within the delay", () => {
    const bMaster = 3609.375; // B alone becomes master then, and advertises every second
    const aStart = bMaster + 2000 - 600; // B's adverts at bMaster + k·1000 reach A at +0.6 s
    const lab = new Lab()
      .add("B", b())
      .add("A", a({ preemptDelayMs: 4000 }))
      .at(0, "B", { type: "start" })
      .at(aStart, "A", { type: "start" })
      .run(aStart + 10_000);
    // first advert +0.6 s starts the delay (ends +4.6 s); adverts at +0.6..+3.6 accepted; +4.6 discarded
    close(lab.became("A", "master"), aStart + 3600 + 3414.0625);
    expect(lab.state("B")).toBe("backup");
  });

  test("MASTER A hearing a lower priority: extra advert + 5 GARPs, and 5 more after 5 s; it stays master", () => {
    let s = initialState(a());
    s = step(s, { type: "start" }, 0).state;
    s = step(s, { type: "timer", timer: "master_down" }, 3414.0625).state;
    expect(s.name).toBe("master");
    const advert = advertFor(VIP, { priority: 100 });
    const r = step(s, { type: "advert", advert, src: B }, 10_000);
    expect(r.state.name).toBe("master");
    expect(r.actions.filter((x) => x.type !== "log")).toEqual([
      { type: "send_advert", priority: 150 },
      { type: "send_garp", perVip: 5 },
      { type: "schedule", timer: "garp", at: 15_000 },
      { type: "notify", kind: "master_rx_lower_pri" },
    ]);
    const later = step(r.state, { type: "timer", timer: "garp" }, 15_000);
    expect(later.actions).toContainEqual({ type: "send_garp", perVip: 5 });
  });

  const tie = [
    ["equal priority from the higher address → BACKUP", ip("192.0.2.9"), "backup"],
    ["equal priority from the lower address → stays MASTER", ip("192.0.2.0"), "master"],
  ] as const;
  for (const [name, src, want] of tie) {
    test(name, () => {
      let s = initialState(a());
      s = step(s, { type: "start" }, 0).state;
      s = step(s, { type: "timer", timer: "master_down" }, 4000).state;
      const advert = advertFor(VIP, { priority: 150 });
      expect(step(s, { type: "advert", advert, src }, 5000).state.name).toBe(want);
    });
  }

  test("crafted equal-priority advert from a higher address: A steps down, master again 3.414 s after it", () => {
    let s = initialState(a());
    s = step(s, { type: "start" }, 0).state;
    s = step(s, { type: "timer", timer: "master_down" }, 3414.0625).state;
    const advert = advertFor(VIP, { priority: 150 });
    const r = step(s, { type: "advert", advert, src: ip("192.0.2.9") }, 10_000);
    expect(r.state.name).toBe("backup");
    expect(r.actions.some((x) => x.type === "send_advert")).toBe(false);
    expect(r.state.timers.master_down).toBeCloseTo(10_000 + 3414.0625, 6);
    // a real equal-priority backup, by contrast, accepts the master's adverts and never preempts
    const lab = new Lab()
      .add("A", a())
      .add("C", params({ localAddr: ip("192.0.2.9"), basePriority: 150 }))
      .at(0, "A", { type: "start" })
      .at(10_000, "C", { type: "start" })
      .run(30_000);
    expect([lab.state("A"), lab.state("C")]).toEqual(["master", "backup"]);
  });

  test("v3 backup adopts a 50 cs master interval: takeover 1.707 s after the last advert", () => {
    const M = ip("192.0.2.9");
    const lab = new Lab()
      .add("M", params({ localAddr: M, version: 3, basePriority: 200, advertIntCs: 50 }))
      .add("A", a({ version: 3 }))
      .at(0, "M", { type: "start" })
      .at(0, "A", { type: "start" })
      .crash(10_000, "M")
      .run(20_000);
    const lastM = Math.max(
      ...lab.log.filter((e) => e.node === "M" && e.action.type === "send_advert").map((e) => e.t),
    );
    close(lab.became("A", "master"), lastM + 1707.03125);
    expect(lab.nodes.get("A")!.masterIntervalCs).toBe(100); // back to its own as master
  });

  test("the owner (255, state MASTER) is master at start and sends priority 255", () => {
    const r = step(
      initialState(params({ localAddr: A, basePriority: 255, initialState: "MASTER" })),
      { type: "start" },
      0,
    );
    expect(r.state.name).toBe("master");
    expect(r.actions).toContainEqual({ type: "send_advert", priority: 255 });
  });
});

describe("tracking and fault", () => {
  const started = () => {
    let s = initialState(b());
    s = step(s, { type: "start" }, 0).state;
    return step(s, { type: "timer", timer: "master_down" }, 3609.375).state;
  };

  test("a fault on MASTER sends priority 0, removes the VIPs, cancels timers; recovery → BACKUP", () => {
    const r = step(started(), { type: "fault", source: "eth0" }, 5000);
    expect(r.state.name).toBe("fault");
    expect(r.actions).toContainEqual({ type: "send_advert", priority: 0 });
    expect(r.actions).toContainEqual({ type: "remove_vips" });
    expect(r.state.timers).toEqual({});
    const back = step(r.state, { type: "recover", source: "eth0" }, 6000);
    expect(back.state.name).toBe("backup");
    expect(back.state.timers.master_down).toBeCloseTo(6000 + 3609.375, 6);
  });

  test("FAULT ignores adverts, and two faults need two recoveries", () => {
    let s = step(started(), { type: "fault", source: "x" }, 5000).state;
    s = step(s, { type: "fault", source: "y" }, 5000).state;
    s = step(s, { type: "recover", source: "x" }, 6000).state;
    expect(s.name).toBe("fault");
    s = step(s, { type: "recover", source: "y" }, 7000).state;
    expect(s.name).toBe("backup");
  });

  test("weights move the advertised priority, clamped to 1..254; the owner's 255 never moves", () => {
    let s = step(started(), { type: "weight", source: "chk", delta: 200 }, 4000).state;
    expect(step(s, { type: "timer", timer: "advert" }, 4609.375).actions).toContainEqual({
      type: "send_advert",
      priority: 254,
    });
    s = step(s, { type: "weight", source: "chk", delta: -120 }, 5000).state;
    expect(step(s, { type: "timer", timer: "advert" }, 5609.375).actions).toContainEqual({
      type: "send_advert",
      priority: 1,
    });
  });

  test("a timer fired before its deadline, or not armed, changes nothing", () => {
    const s = step(initialState(b()), { type: "start" }, 0).state;
    expect(step(s, { type: "timer", timer: "master_down" }, 1000)).toEqual({ state: s, actions: [] });
    expect(step(s, { type: "timer", timer: "advert" }, 5000)).toEqual({ state: s, actions: [] });
  });
});
