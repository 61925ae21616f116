/** Key handling: screens, selection, views, the changes made through forms, filters, bench, events. */
import { afterEach, describe, expect, test } from "bun:test";
import { cleanup } from "ink-testing-library";
import { runIpvsadm } from "../../src/cli/ipvsadm/run.ts";
import { createMemoryBackend } from "../../src/director/offline-backend.ts";
import { EVENTS, fakeBench, memorySource, smallSnapshot } from "./fixtures.ts";
import { KEY, renderApp } from "./harness.tsx";

afterEach(() => cleanup());

const ready = (f: string) => f.includes("127.0.0.5:53");
/** The line of the table that shows `text`. */
const lineOf = (frame: string, text: string) => frame.split("\n").find((l) => l.includes(text)) ?? "";
/** The selected row (the one with the > marker). */
const selectedLine = (frame: string) => frame.split("\n").find((l) => l.startsWith(">")) ?? "";

/** What the ipvsadm CLI says to the same command line against the same table. */
async function cliStderr(argv: string[]): Promise<string> {
  const backend = createMemoryBackend(smallSnapshot());
  const r = await runIpvsadm(argv, {
    argv0: "ipvsadm",
    readStdin: async () => "",
    openBackend: async () => backend,
  });
  return r.stderr.trim();
}

describe("global keys", () => {
  test("digits and Tab switch screens; hidden screens stay hidden", async () => {
    const a = renderApp({ source: memorySource(smallSnapshot(), { events: EVENTS }) });
    await a.until(ready);
    expect(a.frame()).not.toContain("3 Health");
    expect(a.frame()).not.toContain("4 HA");
    await a.press("2");
    await a.until((f) => f.includes("IPVS connection entries"), "Connections");
    await a.press("3"); // hidden: nothing happens
    await Bun.sleep(50);
    expect(a.frame()).toContain("IPVS connection entries");
    await a.press(KEY.tab);
    await a.until((f) => f.includes("Enter: set up") || f.includes("not available"), "Bench after Tab");
    await a.press(KEY.tab);
    await a.until((f) => f.includes("events, level"), "Events after Tab");
    await a.press(KEY.shiftTab, KEY.shiftTab, KEY.shiftTab);
    await a.until(ready, "Services after three Shift-Tabs");
  });

  test("connection entries are fetched only while the Connections screen shows them", async () => {
    const src = memorySource(smallSnapshot());
    const a = renderApp({ source: src });
    await a.until(ready);
    expect(src.wanted.length).toBeGreaterThan(0);
    expect(src.wanted.every((w) => w === false)).toBe(true);
    await a.press("2");
    await a.until(
      (f) => f.includes("IPVS connection entries") && /ESTABLISHED|SYN_RECV|TIME_WAIT|UDP/.test(f),
      "entries",
    );
    expect(src.wanted.at(-1)).toBe(true);
    await a.press("1");
    await a.until(ready, "Services again");
    const n = src.wanted.length;
    await a.until(() => src.wanted.length > n, "another refresh");
    expect(src.wanted.at(-1)).toBe(false);
  });

  test("? shows help for the current screen; ? or Esc closes it", async () => {
    const a = renderApp({ source: memorySource(smallSnapshot()) });
    await a.until(ready);
    await a.press("?");
    await a.until((f) => f.includes("Services keys") && f.includes("quiesce (weight 0) / restore"), "help");
    await a.press(KEY.escape);
    await a.until((f) => ready(f) && !f.includes("Services keys"), "help closed");
    await a.press("2", "?");
    await a.until((f) => f.includes("Connections keys"), "connections help");
  });

  test("q quits (Ink lets go of stdin)", async () => {
    const a = renderApp({ source: memorySource(smallSnapshot()) });
    await a.until(ready);
    expect(a.stdin.listenerCount("readable")).toBeGreaterThan(0);
    await a.press("q");
    await Bun.sleep(50);
    expect(a.stdin.listenerCount("readable")).toBe(0);
  });

  test("a resize re-lays the screen out: the sparkline column needs room", async () => {
    const a = renderApp({ source: memorySource(smallSnapshot()) }, 120, 30);
    await a.until((f) => f.includes("CPS trend"), "wide layout");
    a.resize(78, 24);
    const f = await a.until((x) => !x.includes("CPS trend") && ready(x), "narrow layout");
    for (const line of f.split("\n")) expect(line.length).toBeLessThanOrEqual(78);
  });
});

describe("Services screen", () => {
  test("↓ moves the selection, v cycles -Ln → --stats → --rate", async () => {
    const a = renderApp({ source: memorySource(smallSnapshot()) });
    await a.until(ready);
    expect(selectedLine(a.frame())).toContain("TCP  127.0.0.1:8080");
    await a.press(KEY.down, KEY.down);
    await a.until((f) => selectedLine(f).includes("127.0.0.3:9002"), "the second real server selected");
    await a.press("v");
    await a.until((f) => f.includes("OutPkts"), "--stats");
    await a.press("v");
    await a.until((f) => f.includes("OutPPS"), "--rate");
    await a.press("v");
    await a.until((f) => f.includes("ActiveConn"), "back to -Ln");
  });

  test("x quiesces a real server (weight 0, ◐) and x restores its weight", async () => {
    const src = memorySource(smallSnapshot());
    const a = renderApp({ source: src });
    await a.until(ready);
    await a.press(KEY.down, "x");
    let f = await a.until((x) => lineOf(x, "127.0.0.2:9001").includes("◐"), "quiesced mark");
    expect(lineOf(f, "127.0.0.2:9001")).toMatch(/Masq +0 /);
    expect(src.commands.at(-1)).toEqual([
      "-e",
      "-t",
      "127.0.0.1:8080",
      "-r",
      "127.0.0.2:9001",
      "-m",
      "-w",
      "0",
    ]);
    expect(f).toContain("quiesced (was weight 2)");
    await a.press("x");
    f = await a.until((x) => lineOf(x, "127.0.0.2:9001").includes("●"), "restored mark");
    expect(lineOf(f, "127.0.0.2:9001")).toMatch(/Masq +2 /);
  });

  test("x on a server quiesced before the TUI started asks for the weight", async () => {
    const a = renderApp({ source: memorySource(smallSnapshot()) });
    await a.until(ready);
    await a.press(KEY.down, KEY.down, "x");
    await a.until((f) => f.includes("Restore 127.0.0.3:9002"), "the restore form");
    await a.press(KEY.backspace, "3", KEY.enter);
    await a.until((f) => /127\.0\.0\.3:9002 +Masq +3 /.test(f), "weight 3");
  });

  test("w: a bad weight shows ipvsadm's own message and keeps the form; a good one applies", async () => {
    const src = memorySource(smallSnapshot());
    const a = renderApp({ source: src });
    await a.until(ready);
    await a.press(KEY.down, "w");
    await a.until((f) => f.includes("Weight of 127.0.0.2:9001"), "the weight form");
    await a.press(KEY.backspace, "70000", KEY.enter);
    const want = await cliStderr(["-e", "-t", "127.0.0.1:8080", "-r", "127.0.0.2:9001", "-m", "-w", "70000"]);
    expect(want).not.toBe("");
    await a.until((f) => f.includes(want.split("\n")[0]), `the CLI's message ${JSON.stringify(want)}`);
    expect(a.frame()).toContain("Weight of 127.0.0.2:9001");
    for (let i = 0; i < 5; i++) await a.press(KEY.backspace);
    await a.press("7", KEY.enter);
    await a.until((f) => /127\.0\.0\.2:9001 +Masq +7 /.test(f) && !f.includes("Weight of"), "weight 7");
  });

  test("a adds a service; a bad address gets the CLI's message", async () => {
    const src = memorySource(smallSnapshot());
    const a = renderApp({ source: src });
    await a.until(ready);
    await a.press("a");
    await a.until((f) => f.includes("Add a virtual service"), "the form");
    await a.press(KEY.down, "127.0.0.1:99999", KEY.enter);
    const want = await cliStderr(["-A", "-t", "127.0.0.1:99999", "-s", "wlc"]);
    await a.until((f) => f.includes(want.split("\n")[0]), `the CLI's message ${JSON.stringify(want)}`);
    for (let i = 0; i < 5; i++) await a.press(KEY.backspace);
    await a.press("9090", KEY.enter);
    await a.until((f) => f.includes("TCP  127.0.0.1:9090 wlc"), "the new service");
    expect(src.commands.at(-1)).toEqual(["-A", "-t", "127.0.0.1:9090", "-s", "wlc"]);
  });

  test("keys that come in one read (fast typing, ssh, a paste) are each applied: the form and the filter", async () => {
    const src = memorySource(smallSnapshot());
    const a = renderApp({ source: src });
    await a.until(ready);
    await a.press("a");
    await a.until((f) => f.includes("Add a virtual service"), "the form");
    // One write: Tab, an address, Tab, three Backspaces over "wlc", "sed", Tab, "120", Enter.
    a.stdin.write("\t127.0.0.1:9191\t\x7f\x7f\x7fsed\t120\r");
    await a.until((f) => f.includes("TCP  127.0.0.1:9191 sed persistent 120"), "the new service");
    expect(src.commands.at(-1)).toEqual(["-A", "-t", "127.0.0.1:9191", "-s", "sed", "-p", "120"]);
    await a.press("2");
    await a.until((f) => f.includes("IPVS connection entries"), "Connections");
    a.stdin.write("/svc=127.0.0.1:80999\x7f\x7f\x7f80\r");
    await a.until((f) => f.includes("filter: svc=127.0.0.1:8080"), "the filter, typed in one read");
  });

  test("n adds a real server with the chosen forwarding; D deletes after y; Esc cancels", async () => {
    const src = memorySource(smallSnapshot());
    const a = renderApp({ source: src });
    await a.until(ready);
    await a.press("n");
    await a.until((f) => f.includes("Add a real server to -t 127.0.0.1:8080"), "the form");
    // Direct routing: ipvsadm gives the real server the service's port, as the CLI does.
    await a.press("127.0.0.6:9003", KEY.tab, KEY.right, KEY.enter);
    await a.until((f) => /127\.0\.0\.6:8080 +Route +1 /.test(f), "the new real server");
    expect(src.commands.at(-1)).toEqual([
      "-a",
      "-t",
      "127.0.0.1:8080",
      "-r",
      "127.0.0.6:9003",
      "-g",
      "-w",
      "1",
    ]);
    await a.press(KEY.down, KEY.down, KEY.down, "D");
    await a.until((f) => f.includes("Delete real server 127.0.0.6:8080"), "the question");
    await a.press("n");
    await a.until((f) => !f.includes("Delete real server"), "the question gone");
    expect(a.frame()).toContain("127.0.0.6:8080");
    await a.press("D", "y");
    await a.until((f) => !f.includes("-> 127.0.0.6:8080"), "the server gone");
    expect(src.commands.at(-1)).toEqual(["-d", "-t", "127.0.0.1:8080", "-r", "127.0.0.6:8080"]);
  });

  test("z zeroes the selected service's counters, Z all after y", async () => {
    const src = memorySource(smallSnapshot());
    const a = renderApp({ source: src });
    await a.until(ready);
    await a.press("v", "z");
    await a.until((f) => /TCP {2}127\.0\.0\.1:8080 +0 +0 /.test(f), "zeroed service");
    expect(src.commands.at(-1)).toEqual(["-Z", "-t", "127.0.0.1:8080"]);
    await a.press("Z", "y");
    await a.until((f) => /127\.0\.0\.5:53 +0 +0 /.test(f), "everything zeroed");
    expect(src.commands.at(-1)).toEqual(["-Z"]);
  });

  test("c shows the selection's connections", async () => {
    const a = renderApp({ source: memorySource(smallSnapshot()) }, 120, 30);
    await a.until(ready);
    await a.press(KEY.down, "c");
    // The entries are fetched once the Connections screen is up: wait for them, not just the filter.
    const f = await a.until(
      (x) => x.includes("filter: svc=127.0.0.1:8080 rs=127.0.0.2:9001") && x.includes("(of 12)"),
      "filtered list",
    );
    expect(f).toContain("of 8 (of 12)");
    expect(f).not.toContain("127.0.0.3:9002");
  });
});

describe("Connections screen", () => {
  test("/ filters by state, client and real server; Esc clears", async () => {
    const a = renderApp({ source: memorySource(smallSnapshot()), initialScreen: "connections" });
    await a.until((f) => f.includes("of 12"));
    await a.press("/", "client=127.0.0.13", KEY.enter);
    let f = await a.until((x) => x.includes("1-1 of 1"), "one client");
    expect(f).toContain("127.0.0.13:40003");
    await a.press("/", " rs=127.0.0.2:9001", KEY.enter);
    await a.until((x) => x.includes("no entries"), "no match");
    await a.press(KEY.escape);
    f = await a.until((x) => x.includes("1-12 of 12"), "cleared");
    expect(f).not.toContain("filter:");
  });

  test("scrolls through many entries with ↓, PgDn and G", async () => {
    const snap = smallSnapshot();
    snap.connections = Array.from({ length: 500 }, (_, i) => ({
      ...snap.connections[0],
      client_port: 1000 + i,
    }));
    const a = renderApp({ source: memorySource(snap), initialScreen: "connections" });
    // 24 rows: header, two lines of titles, status and footer leave 18 rows of entries.
    await a.until((f) => f.includes("1-18 of 500"));
    await a.press(KEY.down);
    await a.until((f) => f.includes("2-19 of 500") && !f.includes(":1000 "), "one down");
    await a.press(KEY.pageDown);
    await a.until((f) => f.includes("20-37 of 500"), "a page down");
    await a.press("G");
    await a.until((f) => f.includes("483-500 of 500") && f.includes(":1499 "), "the end");
  });
});

describe("Bench screen", () => {
  test("Enter opens the form, a bad -n is refused, Enter runs, Esc stops", async () => {
    const b = fakeBench();
    const a = renderApp({ source: memorySource(smallSnapshot()), bench: b.runner, initialScreen: "bench" });
    await a.until((f) => f.includes("Enter: set up"));
    await a.press(
      KEY.enter,
      KEY.down,
      KEY.backspace,
      KEY.backspace,
      KEY.backspace,
      KEY.backspace,
      "x",
      KEY.enter,
    );
    await a.until((f) => f.includes('Requests (-n): "x" is not a positive integer'), "the refusal");
    expect(b.started).toHaveLength(0);
    await a.press(KEY.backspace, "200", KEY.down, KEY.down, KEY.right, KEY.enter);
    await a.until((f) => f.includes("-n 200 -c 10 -k"), "the running screen");
    expect(b.started).toEqual([
      { url: "http://127.0.0.1:8080/", requests: 200, concurrency: 10, keepAlive: true },
    ]);
    await a.press(KEY.escape);
    await a.until((f) => f.includes("Stopped."), "stopped");
    expect(b.cancelled()).toBe(1);
  });

  test("without a load generator the screen says so", async () => {
    const a = renderApp({ source: memorySource(smallSnapshot()), initialScreen: "bench" });
    await a.until((f) => f.includes("uvs bench is not available"));
  });
});

describe("Events screen", () => {
  test("new events arrive; l raises the minimum level", async () => {
    const src = memorySource(smallSnapshot(), { events: EVENTS.slice(0, 2) });
    const a = renderApp({ source: src, initialScreen: "events" });
    await a.until((f) => f.includes("2 events"));
    src.pushEvents(EVENTS[2]);
    await a.until((f) => f.includes("rules file rejected"), "the new event");
    await a.press("l", "l");
    const f = await a.until((x) => x.includes("level ≥ notice"), "level notice");
    expect(f).not.toContain("uvs daemon ready");
    expect(f).toContain("control: edit-server");
  });

  test("with --state there is no event log", async () => {
    const a = renderApp({ source: memorySource(smallSnapshot(), { events: null }), initialScreen: "events" });
    await a.until((f) => f.includes("a state file has no event log"));
  });
});
