/** The runtime's pure parts: rise/fall, tracking weights, notify arguments, ip addr lines, `uvs ha`. */
import { describe, expect, test } from "bun:test";
import { formatHaTable } from "../../../src/cli/ha.ts";
import { notifyCommands } from "../../../src/ha/runtime/notify.ts";
import { riseFall, trackEvent } from "../../../src/ha/runtime/trackers.ts";
import type { VrrpInstanceView } from "../../../src/ha/runtime/view.ts";
import { ipAddrArgs } from "../../../src/ha/runtime/vips.ts";
import { parseIp } from "../../../src/model/addr.ts";
import { vrrpOf } from "../../../tui/extras.ts";

describe("rise/fall", () => {
  test("fall 3 failures to go down, rise 2 successes to come back; a good result resets the streak", () => {
    let s = { ok: true, streak: 0 };
    const seq: boolean[] = [];
    for (const r of [false, false, true, false, false, false, true, true]) {
      s = riseFall(s, r, 2, 3);
      seq.push(s.ok);
    }
    expect(seq).toEqual([true, true, true, true, true, false, false, true]);
  });
});

describe("tracking → machine events (keepalived's weight rules)", () => {
  test("weight 0 faults and recovers", () => {
    expect(trackEvent("script:chk", 0, false, false)).toEqual({ type: "fault", source: "script:chk" });
    expect(trackEvent("script:chk", 0, false, true)).toEqual({ type: "recover", source: "script:chk" });
  });
  test("positive weight counts while OK, negative while failing, reverse swaps", () => {
    expect(trackEvent("s", 20, false, true)).toEqual({ type: "weight", source: "s", delta: 20 });
    expect(trackEvent("s", 20, false, false)).toEqual({ type: "weight", source: "s", delta: 0 });
    expect(trackEvent("s", -30, false, false)).toEqual({ type: "weight", source: "s", delta: -30 });
    expect(trackEvent("s", -30, false, true)).toEqual({ type: "weight", source: "s", delta: 0 });
    expect(trackEvent("s", 20, true, false)).toEqual({ type: "weight", source: "s", delta: 20 });
    expect(trackEvent("if:eth1", 0, true, true)).toEqual({ type: "fault", source: "if:eth1" });
  });
});

describe("notify scripts", () => {
  const scripts = {
    master: "/etc/ka/master.sh",
    backup: null,
    fault: null,
    stop: null,
    any: "/etc/ka/notify.sh",
    masterRxLowerPri: null,
  };
  test("the specific script as written, then notify with TYPE NAME STATE PRIORITY", () => {
    expect(notifyCommands(scripts, "master", "INSTANCE", "VI_1", 150)).toEqual([
      ["/bin/sh", "-c", "/etc/ka/master.sh"],
      ["/bin/sh", "-c", '/etc/ka/notify.sh "$@"', "sh", "INSTANCE", "VI_1", "MASTER", "150"],
    ]);
    expect(notifyCommands(scripts, "backup", "GROUP", "G1", 100)).toEqual([
      ["/bin/sh", "-c", '/etc/ka/notify.sh "$@"', "sh", "GROUP", "G1", "BACKUP", "100"],
    ]);
  });
  test("the generic script gets the state as an argument through the shell, unchanged", async () => {
    const [cmd] = notifyCommands(
      { ...scripts, master: null, any: "printf '%s|'" },
      "fault",
      "INSTANCE",
      "V I",
      7,
    );
    const p = Bun.spawn(cmd, { stdout: "pipe" });
    expect(await new Response(p.stdout).text()).toBe("INSTANCE|V I|FAULT|7|");
  });
});

test("ip addr lines carry keepalived's VIP options", () => {
  const v = {
    addr: parseIp("192.0.2.100")!,
    prefix: 24,
    dev: null,
    brd: "192.0.2.255",
    scope: "global",
    label: "eth0:vip",
    noTrack: false,
    pos: { file: "f", line: 1, col: 1 },
  };
  expect(ipAddrArgs("add", v, "eth0")).toEqual([
    "addr",
    "add",
    "192.0.2.100/24",
    "dev",
    "eth0",
    "broadcast",
    "192.0.2.255",
    "scope",
    "global",
    "label",
    "eth0:vip",
  ]);
  expect(ipAddrArgs("del", v, "eth0")).toEqual(["addr", "del", "192.0.2.100/24", "dev", "eth0"]);
});

const view: VrrpInstanceView = {
  name: "VI_1",
  state: "backup",
  vrid: 51,
  version: 2,
  priority: 90,
  base_priority: 100,
  interface: "eth0",
  address: "192.0.2.1",
  mode: "multicast",
  peers: [],
  vips: ["192.0.2.100"],
  master: "192.0.2.2",
  master_priority: 150,
  since: new Date(2026, 0, 2, 3, 4, 5).getTime(),
  sync_group: null,
  faults: [],
  adverts_sent: 0,
  adverts_received: 12,
  drops: { interval: 2 },
  error: null,
  transitions: [
    {
      time: new Date(2026, 0, 2, 3, 4, 5).getTime(),
      from: "master",
      to: "backup",
      reason: "higher priority advert from 192.0.2.2 (150)",
      priority: 90,
      master: "192.0.2.2",
    },
  ],
};

test("uvs ha: one line per instance, effective (base) priority, master, drops and transitions", () => {
  expect(formatHaTable([view])).toBe(
    [
      "INSTANCE  STATE   PRIO      VRID  INTERFACE  MASTER           SINCE     VIPS",
      "VI_1      BACKUP  90 (100)  51    eth0       192.0.2.2 (150)  03:04:05  192.0.2.100",
      "  dropped adverts: interval 2",
      "  03:04:05 master -> backup prio 90 master 192.0.2.2: higher priority advert from 192.0.2.2 (150)",
      "",
    ].join("\n"),
  );
  expect(formatHaTable([])).toMatch(/no VRRP instances/);
});

test("the TUI's HA screen reads the snapshot's vrrp field as the daemon writes it", () => {
  const [e] = vrrpOf({ vrrp: { instances: [view] } } as never) ?? [];
  expect(e).toEqual({
    name: "VI_1",
    state: "backup",
    vrid: 51,
    priority: 90,
    iface: "eth0",
    vips: ["192.0.2.100"],
    since: view.since,
    master: "192.0.2.2",
  });
});
