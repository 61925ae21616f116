/** vrrp_instance / vrrp_script / vrrp_sync_group → typed settings, keepalived's defaults, positioned errors. */
import { describe, expect, test } from "bun:test";
import { type VrrpConfig, vrrpConfig } from "../../src/ha/vrrp-config.ts";
import { Diagnostics, formatDiagnostic } from "../../src/rules/model.ts";
import { parseKeepalived } from "../../src/rules/parser.ts";

function load(text: string): { cfg: VrrpConfig; diags: string[] } {
  const d = new Diagnostics();
  const cst = parseKeepalived(text, "k.conf", d);
  const cfg = vrrpConfig(cst.stmts, d);
  return { cfg, diags: d.list.map(formatDiagnostic) };
}

const inst = (body: string) =>
  `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n${body}\n  virtual_ipaddress { 192.0.2.100 }\n}\n`;

describe("defaults (spec §3.1)", () => {
  test("a minimal instance: BACKUP, priority 100, advert 1 s, VRRPv2, multicast 224.0.0.18, GARP 5 + 5 after 5 s", () => {
    const { cfg, diags } = load(inst(""));
    expect(diags).toEqual([]);
    const i = cfg.instances[0];
    expect([i.initialState, i.priority, i.advertIntCs, i.version, i.mcastDstIp.text]).toEqual([
      "BACKUP",
      100,
      100,
      2,
      "224.0.0.18",
    ]);
    expect(i.garp).toMatchObject({
      masterDelayMs: 5000,
      masterRepeat: 5,
      lowerPrioDelayMs: 5000,
      lowerPrioRepeat: 5,
    });
    expect(i.vips.map((v) => `${v.addr.text}/${v.prefix}`)).toEqual(["192.0.2.100/32"]);
  });

  const table = [
    [
      "state MASTER without priority → owner 255",
      "  state MASTER",
      { initialState: "MASTER", priority: 255 },
    ],
    ["priority 255 without state → MASTER", "  priority 255", { initialState: "MASTER", priority: 255 }],
    [
      "state MASTER with priority keeps it",
      "  state MASTER\n  priority 150",
      { initialState: "MASTER", priority: 150 },
    ],
    ["v3 advert_int 0.5 → 50 cs", "  version 3\n  advert_int 0.5", { version: 3, advertIntCs: 50 }],
    ["v2 advert_int 1.4 → 1 s", "  advert_int 1.4", { advertIntCs: 100 }],
    [
      "PASS keeps the password (8 bytes go on the wire)",
      "  authentication {\n    auth_type PASS\n    auth_pass secret12345\n  }",
      { auth: { type: "PASS", pass: "secret12345" } },
    ],
    ["preempt_delay in ms", "  preempt_delay 4", { preemptDelayMs: 4000 }],
    ["state MASTER clears nopreempt", "  state MASTER\n  priority 150\n  nopreempt", { nopreempt: false }],
  ] as const;
  for (const [name, body, want] of table) {
    test(name, () => {
      const { cfg, diags } = load(inst(body));
      expect(diags.filter((x) => x.includes("error"))).toEqual([]);
      expect(cfg.instances[0]).toMatchObject(want);
    });
  }

  test("global_defs sets the version and GARP policy; lower_prio defaults follow master", () => {
    const { cfg } = load(
      `global_defs {\n  vrrp_version 3\n  vrrp_garp_master_delay 2\n  router_id x\n}\n${inst("")}`,
    );
    expect(cfg.instances[0].version).toBe(3);
    expect(cfg.instances[0].garp).toMatchObject({ masterDelayMs: 2000, lowerPrioDelayMs: 2000 });
  });

  test("IPv6 VIPs make the instance VRRPv3 to ff02::12", () => {
    const { cfg } = load(
      `vrrp_instance V6 {\n  interface eth0\n  virtual_router_id 9\n  virtual_ipaddress { 2001:db8::1/64 }\n}\n`,
    );
    expect(cfg.instances[0]).toMatchObject({ family: "inet6", version: 3 });
    expect(cfg.instances[0].mcastDstIp.text).toBe("ff02::12");
  });

  test("unicast, tracking, notify and sync groups", () => {
    const { cfg, diags } = load(`vrrp_script chk {\n  script "/bin/true"\n  weight -20\n  fall 2\n}
vrrp_instance VI_1 {
  virtual_router_id 51
  unicast_src_ip 192.0.2.2
  unicast_peer {\n    192.0.2.1 min_ttl 250\n  }
  track_interface {\n    eth1 weight -10\n  }
  track_script {\n    chk\n  }
  notify_master "/x.sh master"
  virtual_ipaddress { 192.0.2.100 }
}
vrrp_instance VI_2 {\n  interface eth0\n  virtual_router_id 52\n  virtual_ipaddress { 192.0.2.101 }\n}
vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n}\n`);
    expect(diags).toEqual([]);
    const [i1, i2] = cfg.instances;
    expect(i1.unicastPeers.map((p) => [p.addr.text, p.minTtl])).toEqual([["192.0.2.1", 250]]);
    expect(i1.notify.master).toBe("/x.sh master");
    expect(cfg.scripts[0]).toMatchObject({ name: "chk", weight: -20, fall: 2 });
    expect([i1.syncGroup, i2.syncGroup]).toEqual(["G", "G"]);
    expect(i1.trackInterfaces[0].weight).toBe(0); // forced to 0 in a sync group
  });
});

describe("errors with positions", () => {
  const table = [
    [
      "missing virtual_router_id",
      "vrrp_instance X {\n  interface eth0\n}\n",
      "k.conf:1:1: error: vrrp_instance 'X' has no virtual_router_id",
    ],
    [
      "priority out of range",
      inst("  priority 300"),
      "k.conf:4:12: error: invalid priority '300': expected an integer 1..255",
    ],
    [
      "misspelt keyword",
      inst("  priorty 150"),
      "k.conf:4:3: error: unknown keyword 'priorty' in vrrp_instance; did you mean 'priority'?",
    ],
    [
      "AH",
      inst("  authentication {\n    auth_type AH\n  }"),
      "k.conf:5:15: error: auth_type AH is not supported by uvs (use PASS)",
    ],
    [
      "bad VIP",
      "vrrp_instance X {\n  interface eth0\n  virtual_router_id 1\n  virtual_ipaddress {\n    192.0.2.300\n  }\n}\n",
      "k.conf:5:5: error: invalid virtual address '192.0.2.300'",
    ],
    [
      "no interface, no peers",
      "vrrp_instance X {\n  virtual_router_id 1\n}\n",
      "k.conf:1:1: error: vrrp_instance 'X' has no interface (required unless unicast)",
    ],
    [
      "unknown track_script",
      inst("  track_script {\n    nope\n  }"),
      "k.conf:5:5: error: track_script 'nope' names no vrrp_script",
    ],
    [
      "duplicate VRID",
      `${inst("")}${inst("").replace("VI_1", "VI_2")}`,
      "k.conf:7:1: error: virtual_router_id 51 is already used by 'VI_1' on this interface",
    ],
  ] as const;
  for (const [name, text, want] of table) {
    test(name, () => {
      expect(load(text).diags).toContain(want);
    });
  }

  test("a virtual_router_id out of range is its own error, not also a missing one", () => {
    const { diags } = load(
      "vrrp_instance X {\n  interface eth0\n  virtual_router_id 300\n  virtual_ipaddress { 192.0.2.1 }\n}\n",
    );
    expect(diags).toEqual([
      "k.conf:3:21: error: invalid virtual_router_id '300': expected an integer 1..255",
    ]);
  });

  test("warnings: long auth_pass, kept keywords", () => {
    const { diags } = load(
      inst("  authentication {\n    auth_type PASS\n    auth_pass secret12345\n  }\n  use_vmac"),
    );
    expect(diags).toContain(
      "k.conf:6:15: warning: auth_pass is longer than 8 characters: only the first 8 are used",
    );
    expect(diags).toContain("k.conf:8:3: warning: 'use_vmac' is kept but uvs does not act on it yet");
  });
});
