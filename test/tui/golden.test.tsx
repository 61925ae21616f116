/**
 * Golden frames: each screen at fixed terminal sizes, compared with test/tui/golden/*.txt.
 * `UPDATE_GOLDEN=1 bun test test/tui` rewrites them (review the diff before committing).
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cleanup } from "ink-testing-library";
import { EVENTS, fakeBench, memorySource, smallSnapshot } from "./fixtures.ts";
import { KEY, renderApp } from "./harness.tsx";

const DIR = `${import.meta.dir}/golden`;
const NOW = Date.UTC(2025, 0, 2, 3, 4, 30);
const now = () => NOW;

afterEach(() => cleanup());

function golden(name: string, frame: string) {
  const path = `${DIR}/${name}.txt`;
  const text = `${frame
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")}\n`;
  if (process.env.UPDATE_GOLDEN || !existsSync(path)) {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(path, text);
  }
  expect(text).toBe(readFileSync(path, "utf8"));
}

const HEALTH = {
  checkers: [
    {
      service: "TCP 127.0.0.1:8080",
      server: "127.0.0.2:9001",
      checker: "HTTP_GET",
      state: "up",
      since: NOW - 3_600_000,
      last: { ok: true, reason: "HTTP 200", latency_ms: 1.25, time: NOW - 2000 },
    },
    {
      service: "TCP 127.0.0.1:8080",
      server: "127.0.0.3:9002",
      checker: "TCP_CHECK",
      state: "down",
      since: NOW - 95_000,
      last: { ok: false, reason: "connect: connection refused", latency_ms: 0.4, time: NOW - 1000 },
    },
  ],
};
const VRRP = {
  instances: [
    {
      name: "VI_1",
      state: "master",
      vrid: 51,
      priority: 150,
      interface: "lo",
      vips: ["127.0.0.1"],
      since: NOW - 600_000,
    },
    {
      name: "VI_2",
      state: "backup",
      vrid: 52,
      priority: 100,
      interface: "lo",
      vips: ["127.0.0.9"],
      since: NOW - 60_000,
    },
  ],
};

for (const [columns, rows] of [
  [80, 24],
  [120, 30],
] as const) {
  const size = `${columns}x${rows}`;

  test(`Services screen, -Ln / --stats / --rate views at ${size}`, async () => {
    const a = renderApp({ source: memorySource(smallSnapshot()), now }, columns, rows);
    golden(`services-${size}`, await a.until((f) => f.includes("127.0.0.5:53"), "the table"));
    await a.press("v");
    golden(`services-stats-${size}`, await a.until((f) => f.includes("InPkts"), "--stats"));
    await a.press("v");
    golden(`services-rate-${size}`, await a.until((f) => f.includes("InPPS"), "--rate"));
  });

  test(`Services screen with health marks at ${size}`, async () => {
    const a = renderApp(
      { source: memorySource(smallSnapshot(), { extra: { health: HEALTH } }), now },
      columns,
      rows,
    );
    golden(`services-health-${size}`, await a.until((f) => f.includes("✖"), "a failing mark"));
  });

  test(`Connections screen, all and filtered, at ${size}`, async () => {
    const a = renderApp(
      { source: memorySource(smallSnapshot()), now, initialScreen: "connections" },
      columns,
      rows,
    );
    golden(`connections-${size}`, await a.until((f) => f.includes("of 12"), "12 entries"));
    await a.press("/", "state=TIME", KEY.enter);
    golden(
      `connections-filtered-${size}`,
      await a.until((f) => f.includes("filter: state=TIME"), "the filter"),
    );
  });

  test(`Health and HA screens at ${size}`, async () => {
    const src = memorySource(smallSnapshot(), { extra: { health: HEALTH, vrrp: VRRP } });
    const a = renderApp({ source: src, now, initialScreen: "health" }, columns, rows);
    golden(`health-${size}`, await a.until((f) => f.includes("connection refused"), "the health screen"));
    await a.press("4");
    golden(`ha-${size}`, await a.until((f) => f.includes("VI_2"), "the HA screen"));
  });

  test(`Events screen at ${size}`, async () => {
    const a = renderApp(
      { source: memorySource(smallSnapshot(), { events: EVENTS }), now, initialScreen: "events" },
      columns,
      rows,
    );
    golden(`events-${size}`, await a.until((f) => f.includes("rules file rejected"), "the events"));
  });

  test(`Bench screen: form, running, report at ${size}`, async () => {
    const b = fakeBench();
    const a = renderApp(
      { source: memorySource(smallSnapshot()), now, bench: b.runner, initialScreen: "bench" },
      columns,
      rows,
    );
    await a.until((f) => f.includes("Enter: set up"), "the bench prompt");
    await a.press(KEY.enter);
    golden(`bench-form-${size}`, await a.until((f) => f.includes("Concurrency"), "the form"));
    await a.press(KEY.enter);
    b.progress({
      done: 450,
      failed: 2,
      elapsedMs: 1500,
      rps: 300.5,
      latencyMs: { p50: 2.1, p90: 4.8, p99: 9.7, max: 15.2 },
      histogram: [
        { upToMs: 1, count: 20 },
        { upToMs: 2, count: 200 },
        { upToMs: 5, count: 180 },
        { upToMs: 10, count: 45 },
        { upToMs: 20, count: 5 },
      ],
    });
    golden(`bench-running-${size}`, await a.until((f) => f.includes("300.5 req/s"), "live progress"));
    b.finish("Requests per second:    300.50 [#/sec] (mean)");
    golden(`bench-report-${size}`, await a.until((f) => f.includes("Requests per second"), "the report"));
  });

  test(`Help at ${size}`, async () => {
    const a = renderApp({ source: memorySource(smallSnapshot()), now }, columns, rows);
    await a.until((f) => f.includes("127.0.0.5:53"), "the table");
    await a.press("?");
    golden(`help-services-${size}`, await a.until((f) => f.includes("Marks"), "help"));
  });
}
