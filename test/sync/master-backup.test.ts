/**
 * Master decisions (what is sent when, as ip_vs_sync_conn_needed) and backup application
 * (ip_vs_proc_conn), in process: the master's messages are decoded and applied to a second
 * director with the same configuration.
 */
import { describe, expect, test } from "bun:test";
import { IPPROTO_TCP, IPPROTO_UDP, TCP_STATE_NAMES } from "../../src/conntrack/states.ts";
import { CONN_F_SYNC, CONN_F_TEMPLATE } from "../../src/conntrack/table.ts";
import type { Director } from "../../src/director/director.ts";
import { account, type FlowRef, flowEvent, openFlow } from "../../src/director/flows.ts";
import type { ServiceConfig, ServiceId } from "../../src/model/service.ts";
import { applyMessage, applySyncConn, type BackupStats } from "../../src/sync/backup.ts";
import { decodeMessage, type SyncConn } from "../../src/sync/codec.ts";
import { SyncMaster } from "../../src/sync/master.ts";
import { destConfig, directorWith, ip, svcConfig, tcpService } from "../helpers/director.ts";

const SVC = tcpService();
const UDP_SVC: ServiceId = { kind: "addr", af: "inet", protocol: "udp", addr: ip("192.0.2.10"), port: 53 };

function pair(cfg: ServiceConfig = svcConfig(), id: ServiceId = SVC, maxlen = 1472) {
  const dests = [
    destConfig("198.51.100.11", id.kind === "addr" ? id.port : 0),
    destConfig("198.51.100.12", 80),
  ];
  const a = directorWith(cfg, dests, id);
  const b = directorWith(cfg, dests, id);
  const sent: Uint8Array[] = [];
  const m = new SyncMaster(a, { syncid: 5, maxlen, send: (x) => sent.push(x), timers: false });
  a.hooks.inPacket = m.inPacket;
  const stats: BackupStats = { messages: 0, conns: 0, refused: 0, skipped: 0 };
  /** Send what the master holds and apply it to the backup; returns the entries sent. */
  const ship = (): SyncConn[] => {
    m.pump(true);
    const out: SyncConn[] = [];
    for (const x of sent.splice(0)) {
      const r = decodeMessage(x, 5);
      if (!r.ok) throw new Error(r.reason);
      applyMessage(b, r.msg, stats);
      out.push(...r.msg.conns);
    }
    return out;
  };
  const svcA = a.findService(id)!;
  const open = (cport: number, proto = IPPROTO_TCP, vport = 80) =>
    openFlow(a, svcA, { proto, caddr: ip("203.0.113.7"), cport, vaddr: ip("192.0.2.10"), vport })!;
  return { a, b, m, sent, ship, open, stats };
}

function rows(d: Director) {
  const t = d.conns;
  return [...t.slots()].map((s) => ({
    proto: t.protoOf(s),
    client: `${t.caddr(s).text}:${t.cport(s)}`,
    dest: `${t.daddr(s).text}:${t.dport(s)}`,
    state: t.flags(s) & CONN_F_TEMPLATE ? t.state(s) : TCP_STATE_NAMES[t.state(s)],
    sync: (t.flags(s) & CONN_F_SYNC) !== 0,
    template: (t.flags(s) & CONN_F_TEMPLATE) !== 0,
    left: t.expires(s) - d.now,
  }));
}

const packets = (d: Director, ref: FlowRef, n: number) => {
  for (let i = 0; i < n; i++) account(d, ref, "in", 10);
};

describe("master: what is sent when (defaults: threshold 3, period 50)", () => {
  test("TCP: nothing while SYN_RECV; ESTABLISHED on the 3rd incoming packet, then every 50th", () => {
    const { a, ship, open } = pair();
    const f = open(40001); // packet 1: SYN_RECV (not a sync state)
    expect(ship()).toEqual([]);
    flowEvent(a, f.ref, "established"); // packet 2: ESTABLISHED, but 2 % 50 != 3
    expect(ship()).toEqual([]);
    packets(a, f.ref, 1); // packet 3
    expect(ship().map((c) => [c.state, c.cport])).toEqual([[1, 40001]]);
    packets(a, f.ref, 49); // packets 4..52
    expect(ship()).toEqual([]);
    packets(a, f.ref, 1); // packet 53
    expect(ship().length).toBe(1);
  });

  test("TCP: a change to a state other than ESTABLISHED is sent at once, once", () => {
    const { a, ship, open } = pair();
    const f = open(40001);
    flowEvent(a, f.ref, "established");
    packets(a, f.ref, 1);
    ship();
    flowEvent(a, f.ref, "client-fin"); // CLOSE_WAIT
    expect(ship().map((c) => TCP_STATE_NAMES[c.state])).toEqual(["CLOSE_WAIT"]);
    packets(a, f.ref, 2); // same state again: back to the packet count (packets 5, 6)
    expect(ship()).toEqual([]);
    flowEvent(a, f.ref, "server-fin"); // an output packet: never counted, never sent
    expect(ship()).toEqual([]);
    flowEvent(a, f.ref, "closed"); // TIME_WAIT
    expect(ship().map((c) => [TCP_STATE_NAMES[c.state], c.timeout])).toEqual([["TIME_WAIT", 120]]);
  });

  test("UDP: sent on packets 3, 53, 103 with the UDP timeout", () => {
    const { a, ship, open } = pair(svcConfig(), UDP_SVC);
    const f = open(5000, IPPROTO_UDP, 53); // packet 1
    const counts: number[] = [];
    for (let p = 2; p <= 110; p++) {
      packets(a, f.ref, 1);
      if (ship().length) counts.push(p);
    }
    expect(counts).toEqual([3, 53, 103]);
  });

  test("persistence: the template follows its connection, and on every packet that passes it", () => {
    const { a, b, ship, open } = pair(svcConfig({ flags: 0x01, timeout: 360 }));
    const f = open(40001);
    // The template is considered on every incoming packet of its connections (it has no packet test).
    const first = ship();
    expect(first.map((c) => [c.flags & CONN_F_TEMPLATE ? "tpl" : "conn", c.timeout])).toEqual([["tpl", 360]]);
    flowEvent(a, f.ref, "established"); // packet 2: the connection is not due, its template is
    expect(ship().map((c) => (c.flags & CONN_F_TEMPLATE ? "tpl" : "conn"))).toEqual(["tpl"]);
    packets(a, f.ref, 1);
    const third = ship();
    expect(third.map((c) => (c.flags & CONN_F_TEMPLATE ? "tpl" : "conn"))).toEqual(["conn", "tpl"]);
    const tpl = rows(b).find((r) => r.template)!;
    expect(tpl).toMatchObject({ client: "203.0.113.7:0", sync: true, left: 360_000 });
    const dest = b.findService(SVC)!.dests.find((d) => d.persistConns === 1);
    expect(dest?.addr.text).toBe(
      rows(b)
        .find((r) => !r.template)!
        .dest.split(":")[0],
    );
  });

  test("sync_persist_mode: connections under a template are not sent, the template is", () => {
    const { a, ship, open, m } = pair(svcConfig({ flags: 0x01, timeout: 360 }));
    m.sysctls.persistMode = true;
    const f = open(40001);
    flowEvent(a, f.ref, "established");
    packets(a, f.ref, 1);
    const all = [ship(), ship()].flat();
    expect(all.every((c) => (c.flags & CONN_F_TEMPLATE) !== 0)).toBe(true);
  });

  test("one-packet UDP entries are never sent; their template is", () => {
    const { ship, open } = pair(svcConfig({ flags: 0x01 | 0x04, timeout: 60 }), UDP_SVC);
    open(5000, IPPROTO_UDP, 53);
    const out = ship();
    expect(out.length).toBe(1);
    expect(out[0].flags & CONN_F_TEMPLATE).toBe(CONN_F_TEMPLATE);
  });

  test("batching: messages stay within maxlen; 8 full ones are sent without waiting", () => {
    const { a, sent, open, m } = pair(svcConfig(), SVC, 200); // 5 entries of 36 bytes per message
    for (let i = 0; i < 41; i++) {
      const f = open(41000 + i);
      flowEvent(a, f.ref, "established");
      packets(a, f.ref, 1);
    }
    // The 41st entry does not fit the 8th message, which is queued: the 8th queued message wakes
    // the sender at once (IPVS_SYNC_WAKEUP_RATE); the 41st waits in the current message.
    expect(sent.length).toBe(8);
    expect(sent.every((x) => x.length === 8 + 5 * 36 && x[4] === 5)).toBe(true);
    m.pump(true);
    expect(sent.length).toBe(9);
    expect(sent[8][4]).toBe(1);
  });

  test("a partly filled message waits until it is 2 s old", () => {
    const { a, sent, open, m } = pair();
    const f = open(40001);
    flowEvent(a, f.ref, "established");
    packets(a, f.ref, 1);
    expect(m.pump(false)).toBe(0);
    a.advance(a.now + 1999);
    expect(m.pump(false)).toBe(0);
    a.advance(a.now + 1);
    expect(m.pump(false)).toBe(1);
    expect(sent.length).toBe(1);
  });

  test("a stopped master sends nothing and drops what it held", () => {
    const { a, sent, open, m } = pair();
    const f = open(40001);
    flowEvent(a, f.ref, "established");
    packets(a, f.ref, 1);
    m.stop();
    packets(a, f.ref, 50);
    expect(m.pump(true)).toBe(0);
    expect(sent).toEqual([]);
  });
});

describe("backup: ip_vs_proc_conn", () => {
  test("creates SYNC entries bound to the dest, counted Active/InAct by the flag the master sent", () => {
    const { a, b, ship, open } = pair();
    const f = open(40001);
    flowEvent(a, f.ref, "established");
    packets(a, f.ref, 1);
    ship();
    const r = rows(b);
    expect(r).toEqual([
      {
        proto: 6,
        client: "203.0.113.7:40001",
        dest: `${a.conns.daddr(f.ref.slot).text}:80`,
        state: "ESTABLISHED",
        sync: true,
        template: false,
        left: 900_000,
      },
    ]);
    const destB = b.findService(SVC)!.dests.find((d) => d.addr.text === a.conns.daddr(f.ref.slot).text)!;
    expect([destB.activeConns, destB.inactConns]).toEqual([1, 0]);
    flowEvent(a, f.ref, "client-fin");
    ship();
    expect(rows(b)[0].state).toBe("CLOSE_WAIT");
    expect([destB.activeConns, destB.inactConns]).toEqual([0, 1]);
    // The backup's entry expires on the timeout the master sent.
    b.advance(b.now + 60_000);
    expect(rows(b)).toEqual([]);
    expect([destB.activeConns, destB.inactConns]).toEqual([0, 0]);
  });

  const base: SyncConn = {
    af: "inet",
    protocol: 6,
    flags: 0x0100, // MASQ, INACTIVE
    state: 6,
    cport: 1111,
    vport: 80,
    dport: 80,
    fwmark: 0,
    timeout: 10,
    caddr: ip("203.0.113.50"),
    vaddr: ip("192.0.2.10"),
    daddr: ip("198.51.100.99"),
  };

  test("no such dest: the entry is kept unbound, and binds when an update finds one", () => {
    const b = directorWith(svcConfig(), [destConfig("198.51.100.11")]);
    expect(applySyncConn(b, base)).toBe("created");
    const [slot] = b.conns.slots();
    expect(b.conns.dest(slot)).toBeNull();
    b.apply({ op: "add-server", service: SVC, dest: destConfig("198.51.100.99") });
    expect(applySyncConn(b, { ...base, state: 1, flags: 0 })).toBe("updated");
    const dest = b.conns.dest(slot)!;
    expect([dest.addr.text, dest.activeConns, dest.inactConns]).toEqual(["198.51.100.99", 1, 0]);
  });

  test("same client on another real server: an active entry replaces, an inactive one is ignored", () => {
    const b = directorWith(svcConfig(), [destConfig("198.51.100.11"), destConfig("198.51.100.12")]);
    applySyncConn(b, { ...base, daddr: ip("198.51.100.11"), flags: 0, state: 1, timeout: 900 });
    expect(applySyncConn(b, { ...base, daddr: ip("198.51.100.12") })).toBe("ignored");
    expect(rows(b).map((r) => r.dest)).toEqual(["198.51.100.11:80"]);
    expect(applySyncConn(b, { ...base, daddr: ip("198.51.100.12"), flags: 0, state: 1, timeout: 900 })).toBe(
      "replaced",
    );
    expect(rows(b).map((r) => r.dest)).toEqual(["198.51.100.12:80"]);
    const dest = (a: string) => b.findService(SVC)!.dests.find((d) => d.addr.text === a)!;
    const [d11, d12] = [dest("198.51.100.11"), dest("198.51.100.12")];
    expect([d11.activeConns, d12.activeConns]).toEqual([0, 1]);
  });

  test("v0 entries (no timeout) take the state's timeout; templates 3 minutes", () => {
    const b = directorWith(svcConfig(), [destConfig("198.51.100.11")]);
    applySyncConn(b, { ...base, timeout: 0, state: 1, daddr: ip("198.51.100.11"), flags: 0x20 }, 0);
    applySyncConn(
      b,
      { ...base, timeout: 0, cport: 0, state: 0, daddr: ip("198.51.100.11"), flags: 0x1020 },
      0,
    );
    expect(rows(b).map((r) => [r.template, r.left])).toEqual([
      [false, 900_000],
      [true, 180_000],
    ]);
  });

  test("flags outside IP_VS_CONN_F_BACKUP_MASK are dropped from v1 entries", () => {
    const b = directorWith(svcConfig(), [destConfig("198.51.100.11")]);
    applySyncConn(b, { ...base, daddr: ip("198.51.100.11"), flags: 0x2000 | 0x10000 | 0x0100 });
    const [slot] = b.conns.slots();
    expect(b.conns.flags(slot) & (0x2000 | 0x10000)).toBe(0);
    expect(b.conns.flags(slot) & CONN_F_SYNC).toBe(CONN_F_SYNC);
  });
});
