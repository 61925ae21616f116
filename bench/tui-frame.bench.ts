/**
 * Frame time of the TUI with 1,000 services (10 real servers each) and 100,000 connections:
 * `bun bench/tui-frame.bench.ts`. Ink renders synchronously (legacy root), so the wall time from a
 * key or a new snapshot to the frame written on stdout is one frame: React, Yoga layout and Ink's
 * output together. Budget: 50 ms.
 */
import { EventEmitter } from "node:events";
import { render } from "ink";
import { createElement } from "react";
import { bigSnapshot } from "../test/tui/fixtures.ts";
import { App } from "../tui/App.tsx";
import { filterConnections, parseConnFilter } from "../tui/conn-filter.ts";
import { serviceRows } from "../tui/service-rows.ts";
import type { DataSource } from "../tui/types.ts";
import { addSample } from "../tui/use-snapshot.ts";
import { TerminalSizeContext } from "../tui/use-terminal-size.ts";

const BUDGET_MS = 50;
const N = Number(process.env.N ?? 25);

class FakeStdout extends EventEmitter {
  isTTY = false;
  /** when a snapshot resolved and no frame has been written since */
  pendingSince = 0;
  snapshotFrames: number[] = [];
  private waiter: ((t: number) => void) | null = null;
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
  }
  write = (_s: string) => {
    const t = performance.now();
    if (this.pendingSince) {
      this.snapshotFrames.push(t - this.pendingSince);
      this.pendingSince = 0;
    }
    this.waiter?.(t);
    this.waiter = null;
    return true;
  };
  nextFrame(): Promise<number> {
    return new Promise((r) => {
      this.waiter = r;
    });
  }
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  data: string | null = null;
  write(d: string) {
    this.data = d;
    this.emit("readable");
  }
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

function stats(name: string, ms: number[]) {
  if (ms.length === 0) {
    console.log(`${name.padEnd(44)} no samples`);
    return 0;
  }
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const line = `${name.padEnd(44)} median ${q(0.5).toFixed(2).padStart(6)} ms  p95 ${q(0.95).toFixed(2).padStart(6)} ms  max ${s[s.length - 1].toFixed(2).padStart(6)} ms`;
  console.log(`${line}${s[s.length - 1] > BUDGET_MS ? "  OVER BUDGET" : ""}`);
  return s[s.length - 1];
}

function time(f: () => void): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

const t0 = performance.now();
const snap = process.env.SMALL ? bigSnapshot(3, 2, 10) : bigSnapshot(1000, 10, 100_000);
console.log(
  `snapshot: ${snap.services.length} services, ${snap.services.length * 10} real servers, ${snap.connections.length} connections (built in ${(performance.now() - t0).toFixed(0)} ms)`,
);

// Work done once per snapshot (≤ 4 Hz), outside the frame: rows and history in the hook.
let rows = serviceRows(snap);
stats(
  "per snapshot: service rows (hook)",
  Array.from({ length: N }, () => time(() => (rows = serviceRows(snap)))),
);
let hist = new Map<string, number[]>();
stats(
  "per snapshot: CPS history sample (hook)",
  Array.from({ length: N }, () => time(() => (hist = addSample(hist, rows)))),
);
const f = parseConnFilter("state=EST");
stats(
  "per snapshot: filter 100,000 connections",
  Array.from({ length: N }, () => time(() => filterConnections(snap.connections, f))),
);

let worst = 0;
for (const [columns, rowsN] of [
  [80, 24],
  [200, 60],
] as const) {
  console.log(`\n${columns}x${rowsN}`);
  const stdout = new FakeStdout(columns, rowsN);
  const stdin = new FakeStdin();
  let polling = false;
  const source: DataSource = {
    label: "bench",
    snapshot: async () => {
      // A new snapshot object each poll, as the control socket delivers: every memo recomputes.
      const next = { ...snap, services: snap.services.slice(), connections: snap.connections.slice() };
      if (polling) stdout.pendingSince = performance.now();
      return next;
    },
    events: null,
    ipvsadm: async () => ({ stdout: "", stderr: "", code: 0 }),
    close() {},
  };
  const app = render(
    createElement(
      TerminalSizeContext.Provider,
      { value: { columns, rows: rowsN } },
      createElement(App, { source, refreshMs: Number(process.env.REFRESH ?? 250) }),
    ),
    // biome-ignore lint/suspicious/noExplicitAny: fake streams
    { stdout: stdout as any, stdin: stdin as any, debug: true, exitOnCtrlC: false, patchConsole: false },
  );
  await Bun.sleep(500);
  const key = async (k: string) => {
    const frame = stdout.nextFrame();
    const t = performance.now();
    stdin.write(k);
    const done = await Promise.race([frame, Bun.sleep(2000).then(() => Number.NaN)]);
    return done - t;
  };
  const keys = async (name: string, k: string) => {
    const ms: number[] = [];
    for (let i = 0; i < N; i++) {
      const t = await key(k);
      if (!Number.isNaN(t)) ms.push(t);
    }
    worst = Math.max(worst, stats(name, ms));
  };
  const polls = async (name: string) => {
    stdout.snapshotFrames = [];
    polling = true;
    await Bun.sleep(N * 260);
    polling = false;
    worst = Math.max(worst, stats(name, stdout.snapshotFrames));
  };
  await polls("Services: new snapshot (fetched → frame)");
  await keys("Services: ↓ (key → frame)", "\x1b[B");
  await keys("Services: PgDn", "\x1b[6~");
  await keys("Services: v, view change", "v");
  await key("2");
  await polls("Connections: new snapshot (fetched → frame)");
  await keys("Connections: ↓", "\x1b[B");
  await keys("Connections: PgDn", "\x1b[6~");
  const filt: number[] = [];
  for (let i = 0; i < N; i++) {
    await key("/");
    for (const c of i % 2 ? "state=EST" : "rs=127.200.7.3:8002") await key(c);
    filt.push(await key("\r"));
  }
  worst = Math.max(worst, stats("Connections: apply a filter over 100,000", filt));
  app.unmount();
}
console.log(
  `\nworst frame ${worst.toFixed(2)} ms (budget ${BUDGET_MS} ms): ${worst <= BUDGET_MS ? "OK" : "OVER"}`,
);
