/**
 * What keeps frames short with 1,000 services and 100,000 connections (bench/tui-frame.bench.ts):
 * only the rows on screen are parsed and formatted, a new snapshot reuses the table's order and
 * names, a key renders once and gets its frame at once despite Ink's `maxFps: 4`, and big props
 * are opaque to React's development-build prop diff. These fail when that windowing or memoization
 * breaks, whatever the machine's speed.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { render } from "ink";
import { cleanup, render as renderTesting } from "ink-testing-library";
import { Profiler } from "react";
import { listAll } from "../../src/cli/ipvsadm/format.ts";
import { validateSnapshot } from "../../src/model/snapshot.ts";
import { App } from "../../tui/App.tsx";
import { keyFrameCount } from "../../tui/KeyFrames.tsx";
import { Opaque } from "../../tui/opaque.ts";
import {
  formatCount,
  formatOf,
  NUMERIC_NAMES,
  rowTexts,
  SERVICE_VIEWS,
  serviceRows,
} from "../../tui/service-rows.ts";
import type { DataSource } from "../../tui/types.ts";
import { addSample } from "../../tui/use-snapshot.ts";
import { FakeTtyStdin } from "../helpers/fake-tty.ts";
import { bigSnapshot, memorySource, smallSnapshot } from "./fixtures.ts";
import { KEY, plain, sized } from "./harness.tsx";

afterEach(() => cleanup());

/** ipvsadm's own listing of every service, without the version and title lines. */
const cliLines = (snap: Parameters<typeof listAll>[0], view: (typeof SERVICE_VIEWS)[number]) =>
  listAll(snap, formatOf(view), NUMERIC_NAMES).split("\n").slice(3, -1);

/** Services, real servers and families that sort in interesting ways (IPv6, marks, ports). */
function mixedSnapshot(extraDest = false) {
  const d = (address: string, port: number, af = "inet") => ({ af, address, port, weight: 1 });
  return validateSnapshot({
    schema: "uvs-state/1",
    services: [
      {
        protocol: "udp",
        address: "127.0.0.1",
        port: 53,
        destinations: [d("127.0.0.9", 53), d("127.0.0.3", 53)],
      },
      {
        af: "inet6",
        protocol: "tcp",
        address: "::1",
        port: 80,
        destinations: [d("::3", 80, "inet6"), d("::2", 8080, "inet6")],
      },
      { fwmark: 7, destinations: [d("127.0.0.5", 0)] },
      {
        protocol: "tcp",
        address: "127.0.0.1",
        port: 80,
        destinations: [
          d("127.0.0.20", 80),
          d("127.0.0.3", 8080),
          d("127.0.0.3", 80),
          ...(extraDest ? [d("127.0.0.1", 81)] : []),
        ],
      },
    ],
  });
}

describe("service rows", () => {
  test("are ipvsadm's lines, in ipvsadm's order, in every view", () => {
    for (const snap of [mixedSnapshot(), smallSnapshot(), bigSnapshot(30, 4, 0)]) {
      const rows = serviceRows(snap);
      for (const view of SERVICE_VIEWS)
        expect(rowTexts(rows, 0, rows.length, view)).toEqual(cliLines(snap, view));
    }
  });

  test("only the rows asked for are parsed and formatted, each service once per view", () => {
    const snap = bigSnapshot(1000, 10, 0);
    const first = serviceRows(snap);
    // A new snapshot (new objects) of the same table: nothing is parsed to build the rows.
    const rows = serviceRows(structuredClone(snap), first);
    expect(rows.length).toBe(11_000);
    expect(rows.filter((r) => r.built).length).toBe(0);
    const before = formatCount.n;
    // 20 rows from the middle of a service block: that service and the next are formatted.
    const texts = rowTexts(rows, 5005, 5025, "default");
    expect(texts).toHaveLength(20);
    expect(formatCount.n - before).toBe(2);
    expect(rows.filter((r) => r.built).length).toBe(22);
    rowTexts(rows, 5006, 5026, "default"); // one row down: nothing new
    expect(formatCount.n - before).toBe(2);
    rowTexts(rows, 5006, 5026, "stats"); // another view: formatted once more
    expect(formatCount.n - before).toBe(4);
    // The CPS history reads the snapshot's rates without parsing any entry.
    const hist = addSample(new Map(), rows);
    expect(hist.size).toBe(10_000);
    expect(rows.filter((r) => r.built).length).toBe(22);
  });

  test("reusing the previous rows gives the rows built from scratch, also when the table changed", () => {
    const a = mixedSnapshot();
    const b = mixedSnapshot(true); // a real server more
    const c = validateSnapshot({ ...structuredClone(b), services: b.services.slice(1) }); // a service less
    let prev = serviceRows(a);
    for (const snap of [a, b, c, a]) {
      const rows = serviceRows(snap, prev);
      const fresh = serviceRows(snap);
      expect(rows.map((r) => `${r.key}|${r.svcRule}|${r.destText}|${r.line}`)).toEqual(
        fresh.map((r) => `${r.key}|${r.svcRule}|${r.destText}|${r.line}`),
      );
      expect(rowTexts(rows, 0, rows.length, "default")).toEqual(cliLines(snap, "default"));
      prev = rows;
    }
  });
});

describe("rendering", () => {
  test("a snapshot formats only the services on screen; a key re-renders once and formats nothing new", async () => {
    const src = memorySource(bigSnapshot(300, 10, 0));
    let commits = 0;
    const a = renderTesting(
      sized(
        <Profiler id="app" onRender={() => commits++}>
          <App source={src} refreshMs={250} eventsMs={250} />
        </Profiler>,
        80,
        24,
      ),
    );
    for (let i = 0; i < 300 && !plain(a.lastFrame()).includes("127.200.0.1:8000"); i++) await Bun.sleep(10);
    expect(plain(a.lastFrame())).toContain("127.200.0.1:8000");
    // 80x24: 17 table rows, two service blocks of 11 rows; each snapshot formats those two only.
    const f0 = formatCount.n;
    await Bun.sleep(800); // at least two more snapshots
    const perSnapshot = formatCount.n - f0;
    expect(perSnapshot).toBeGreaterThan(0);
    expect(perSnapshot % 2).toBe(0);
    expect(perSnapshot).toBeLessThanOrEqual(2 * 5);
    // Keys between snapshots: each commits the key's change and the key frame, nothing else.
    await Bun.sleep(60);
    const c0 = commits;
    const f1 = formatCount.n;
    const k0 = keyFrameCount.n;
    a.stdin.write(KEY.down);
    await Bun.sleep(0);
    expect(keyFrameCount.n - k0).toBe(1);
    expect(commits - c0).toBeLessThanOrEqual(2);
    expect(formatCount.n - f1).toBe(0);
  });

  test("a key's frame is written at once under Ink's maxFps: 4, as src/cli/tui.ts renders", async () => {
    class Out extends EventEmitter {
      isTTY = true;
      columns = 80;
      rows = 24;
      text = "";
      write = (s: string) => {
        this.text += s;
        return true;
      };
    }
    const out = new Out();
    const stdin = new FakeTtyStdin();
    // A source that answers once: no snapshot frame competes with the keys.
    const once = memorySource(smallSnapshot());
    let served = false;
    const source: DataSource = {
      ...once,
      snapshot: async (o) => {
        if (served) await new Promise(() => {});
        served = true;
        return once.snapshot(o);
      },
    };
    const app = render(sized(<App source={source} refreshMs={250} />, 80, 24), {
      // biome-ignore lint/suspicious/noExplicitAny: fake streams
      stdout: out as any,
      // biome-ignore lint/suspicious/noExplicitAny: fake streams
      stdin: stdin as any,
      maxFps: 4,
      incrementalRendering: false,
      exitOnCtrlC: false,
      patchConsole: false,
    });
    try {
      // The first frame may take a while when the whole suite runs at once; the timing that
      // matters is the key's, below.
      const until = async (pred: () => boolean) => {
        for (let i = 0; i < 800 && !pred(); i++) await Bun.sleep(10);
        return pred();
      };
      expect(await until(() => plain(out.text).includes("127.0.0.5:53"))).toBe(true);
      await Bun.sleep(300); // the throttle is idle
      // Two keys in a row: the second lands inside the 250 ms throttle window the first opened.
      for (const k of [KEY.down, KEY.down]) {
        out.text = "";
        const t = performance.now();
        stdin.send(k);
        await Bun.sleep(0);
        expect(performance.now() - t).toBeLessThan(100);
        expect(out.text).not.toBe("");
      }
    } finally {
      app.unmount();
    }
  }, 15_000);
});

describe("opaque props", () => {
  test("hold their value where no for…in (React's development prop diff) can see it", () => {
    const big = new Opaque(Array.from({ length: 100_000 }, (_, i) => ({ i })));
    const seen: string[] = [];
    for (const k in big) seen.push(k);
    expect(seen).toEqual([]);
    expect(Object.keys(big)).toEqual([]);
    expect(Object.prototype.toString.call(big)).toBe("[object Object]");
    expect(big.value).toHaveLength(100_000);
  });
});
