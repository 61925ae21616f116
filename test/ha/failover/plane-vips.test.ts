/**
 * PlaneVips (VRRP VIPs on the packet plane) and lvs_sync_daemon (parse, checks, following the
 * instance's state), without sockets: a fake plane records setArpFor/announce, a fake apply
 * records the daemon ops.
 */
import { describe, expect, test } from "bun:test";
import type { DirectorOp, OpResult } from "../../../src/director/api.ts";
import { arpSet, PlaneVips } from "../../../src/ha/runtime/plane-vips.ts";
import { vrrpConfig } from "../../../src/ha/vrrp-config.ts";
import { parseRules } from "../../../src/rules/load.ts";
import { Diagnostics } from "../../../src/rules/model.ts";
import { LvsSyncFollower, lvsSyncdOf } from "../../../src/sync/lvs-syncd.ts";

function load(text: string) {
  const r = parseRules("/t/uvs.conf", text);
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join("; "));
  const diags = new Diagnostics();
  const vrrp = vrrpConfig(r.config.blocks, diags);
  const defs = r.config.blocks.filter((b) => b.keyword.text === "global_defs");
  const l = lvsSyncdOf(defs, vrrp.instances, diags);
  return { vrrp, l, diags: diags.list.map((d) => `${d.pos.line}:${d.pos.col} ${d.severity}: ${d.message}`) };
}

const INSTANCE = (name: string, vrid: number, vip: string) => `vrrp_instance ${name} {
    state BACKUP
    interface eth0
    virtual_router_id ${vrid}
    priority 100
    virtual_ipaddress {
        ${vip}
    }
}
`;

class FakePlane {
  readonly calls: string[] = [];
  async setArpFor(v: string[] | "all") {
    this.calls.push(`arp ${v === "all" ? "all" : v.join(",")}`);
    return true;
  }
  async announce(v?: string[]) {
    this.calls.push(`garp ${v?.join(",")}`);
    return v?.length ?? 0;
  }
}

describe("PlaneVips", () => {
  test("arpSet: service VIPs no instance lists, plus the held ones", () => {
    expect(arpSet(["192.0.2.100", "192.0.2.200"], new Set(["192.0.2.100"]), [])).toEqual(["192.0.2.200"]);
    expect(arpSet(["192.0.2.100", "192.0.2.200"], new Set(["192.0.2.100"]), ["192.0.2.100"])).toEqual([
      "192.0.2.100",
      "192.0.2.200",
    ]);
  });

  test("an instance's VIP is silent until it is MASTER, answered while it is, silent after; GARP through the plane", async () => {
    const { vrrp } = load(INSTANCE("VI_1", 51, "192.0.2.100/32"));
    const p = new FakePlane();
    const v = new PlaneVips(p);
    // the daemon's order: configure (reload), then the service VIPs before the plane applies the table
    await v.configure(vrrp);
    await v.setServiceVips(["192.0.2.100", "192.0.2.200"]);
    expect(v.current()).toEqual(["192.0.2.200"]);
    const c = vrrp.instances[0];
    expect(await v.take(c)).toEqual([]);
    expect(v.current()).toEqual(["192.0.2.100", "192.0.2.200"]);
    expect(await v.announce(c, 3)).toBe(3);
    expect(await v.release(c)).toEqual([]);
    expect(p.calls).toEqual([
      "arp ",
      "arp 192.0.2.200",
      "arp 192.0.2.100,192.0.2.200",
      "garp 192.0.2.100",
      "garp 192.0.2.100",
      "garp 192.0.2.100",
      "arp 192.0.2.200",
    ]);
  });

  test("a plane that refuses reports the problem instead of throwing", async () => {
    const { vrrp } = load(INSTANCE("VI_1", 51, "192.0.2.100/32"));
    const v = new PlaneVips({
      setArpFor: () => Promise.reject(new Error("the packet data plane is closed")),
      announce: () => Promise.resolve(0),
    });
    await v.configure(vrrp).catch(() => {});
    expect(await v.take(vrrp.instances[0])).toEqual(["packet plane: the packet data plane is closed"]);
  });
});

describe("lvs_sync_daemon", () => {
  test("keepalived's arguments; syncid defaults to the instance's vrid", () => {
    const a = load(`global_defs {\n    lvs_sync_daemon eth1 VI_1\n}\n${INSTANCE("VI_1", 51, "192.0.2.100")}`);
    expect(a.diags).toEqual([]);
    expect(a.l).toEqual({ ifname: "eth1", instance: "VI_1", syncid: null });
    const b = load(
      `global_defs {\n    lvs_sync_daemon eth1 VI_1 id 7 maxlen 1400 port 8849 ttl 2 group 224.0.0.82\n}\n${INSTANCE("VI_1", 51, "192.0.2.100")}`,
    );
    expect(b.diags).toEqual([]);
    expect(b.l).toMatchObject({ syncid: 7, maxlen: 1400, port: 8849, ttl: 2, group: { text: "224.0.0.82" } });
    const old = load(
      `global_defs {\n    lvs_sync_daemon eth1 VI_1 9\n}\n${INSTANCE("VI_1", 51, "192.0.2.100")}`,
    );
    expect(old.l?.syncid).toBe(9);
    expect(old.diags).toEqual([
      "2:31 warning: use 'id 9' for the lvs_sync_daemon syncid (keepalived's form)",
    ]);
  });

  test("errors name the place: unknown instance, bad values, unknown options", () => {
    const inst = INSTANCE("VI_1", 51, "192.0.2.100");
    expect(load(`global_defs {\n    lvs_sync_daemon eth1 VI_9\n}\n${inst}`).diags).toEqual([
      "2:26 error: lvs_sync_daemon names vrrp_instance 'VI_9', which does not exist",
    ]);
    expect(load(`global_defs {\n    lvs_sync_daemon eth1 VI_1 id 300\n}\n${inst}`).diags).toEqual([
      "2:34 error: invalid lvs_sync_daemon id '300': expected 0..255",
    ]);
    expect(load(`global_defs {\n    lvs_sync_daemon eth1 VI_1 mtu 9\n}\n${inst}`).diags).toEqual([
      "2:31 error: unknown lvs_sync_daemon option 'mtu' (id, maxlen, port, ttl, group)",
    ]);
    expect(load(`global_defs {\n    lvs_sync_daemon eth1\n}\n${inst}`).diags[0]).toContain(
      "expects INTERFACE VRRP_INSTANCE",
    );
  });

  test("the follower runs a backup daemon until MASTER, then only a master; stops on none", async () => {
    const ops: string[] = [];
    const f = new LvsSyncFollower(
      async (op: DirectorOp): Promise<OpResult> => {
        ops.push(
          op.op === "start-daemon"
            ? `start ${op.daemon.state} ${op.daemon.mcastIfn} ${op.daemon.syncid}`
            : `stop ${op.op === "stop-daemon" ? op.state : ""}`,
        );
        return { ok: true };
      },
      () => {},
    );
    f.configure({ ifname: "eth0", instance: "VI_1", syncid: null }, 51);
    await f.follow("init");
    await f.follow("backup");
    await f.follow("master");
    await f.follow("master");
    await f.follow("fault");
    f.configure(null, 0);
    await f.follow("backup");
    expect(ops).toEqual([
      "start backup eth0 51",
      "stop backup",
      "start master eth0 51",
      "stop master",
      "start backup eth0 51",
      "stop backup",
    ]);
  });
});
