import { describe, expect, test } from "bun:test";
import { CONN_F_TEMPLATE } from "../../src/conntrack/table.ts";
import { closeConn, expireEntry } from "../../src/director/conn-ops.ts";
import { SVC_F_PERSISTENT } from "../../src/model/service.ts";
import { destConfig, directorWith, ip, open, svcConfig, tcpService } from "../helpers/director.ts";

const SVC = tcpService();

describe("ActiveConn / InActConn accounting", () => {
  test("a TCP connect is active (SYN_RECV), a close makes it inactive, expiry removes it", () => {
    const d = directorWith(svcConfig(), [destConfig("198.51.100.11")]);
    const dest = d.findService(SVC)!.dests[0];
    const c = open(d, SVC, "203.0.113.7", 40001);
    expect(c.dest).toBe("198.51.100.11:80");
    expect([dest.activeConns, dest.inactConns]).toEqual([1, 0]);
    closeConn(d, c.slot);
    expect([dest.activeConns, dest.inactConns]).toEqual([0, 1]);
    expireEntry(d, c.slot);
    expect([dest.activeConns, dest.inactConns]).toEqual([0, 0]);
    expect(d.conns.size).toBe(0);
    expect(d.findService(SVC)!.stats.read().conns).toBe(1n);
  });

  test("timeouts: SYN_RECV lives 60 s, TIME_WAIT after close 120 s", () => {
    const d = directorWith(svcConfig(), [destConfig("198.51.100.11")]);
    const a = open(d, SVC, "203.0.113.7", 40001);
    const b = open(d, SVC, "203.0.113.7", 40002);
    closeConn(d, b.slot);
    d.advance(59_999);
    expect(d.conns.size).toBe(2);
    d.advance(60_000);
    expect(d.conns.isLive(a.slot)).toBe(false);
    expect(d.conns.size).toBe(1);
    d.advance(120_000);
    expect(d.conns.size).toBe(0);
  });
});

describe("thresholds", () => {
  test("upper threshold sets OVERLOAD at active+inactive ≥ u; cleared below 3/4 of u without l", () => {
    const d = directorWith(svcConfig(), [
      destConfig("198.51.100.11", 80, { uThreshold: 4 }),
      destConfig("198.51.100.12"),
    ]);
    const svc = d.findService(SVC)!;
    const a = svc.findDest(ip("198.51.100.11"), 80)!;
    const slots: number[] = [];
    for (let i = 0; i < 20 && !a.overloaded; i++) {
      const c = open(d, SVC, "203.0.113.7", 41000 + i);
      if (c.dest === "198.51.100.11:80") slots.push(c.slot);
    }
    expect(a.overloaded).toBe(true);
    expect(a.totalConns()).toBe(4);
    expireEntry(d, slots[0]); // 3*4 = 12 < 12? no
    expect(a.overloaded).toBe(true);
    expireEntry(d, slots[1]); // 2*4 = 8 < 12 → cleared
    expect(a.overloaded).toBe(false);
  });

  test("with a lower threshold the flag clears only below l", () => {
    const d = directorWith(svcConfig(), [destConfig("198.51.100.11", 80, { uThreshold: 3, lThreshold: 1 })]);
    const a = d.findService(SVC)!.dests[0];
    const s = [0, 1, 2].map((i) => open(d, SVC, "203.0.113.7", 42000 + i).slot);
    expect(a.overloaded).toBe(true);
    expect(open(d, SVC, "203.0.113.7", 42010).dest).toBeNull();
    expireEntry(d, s[0]);
    expireEntry(d, s[1]);
    expect(a.overloaded).toBe(true);
    expireEntry(d, s[2]);
    expect(a.overloaded).toBe(false);
  });
});

describe("persistence templates", () => {
  const persistent = (timeout: number, netmask = 0xffffffff) =>
    svcConfig({ flags: SVC_F_PERSISTENT, timeout, netmask });

  test("a client keeps its real server across connections; the template counts in PersistConn", () => {
    const d = directorWith(persistent(300), [destConfig("198.51.100.11"), destConfig("198.51.100.12")]);
    const first = open(d, SVC, "203.0.113.7", 40001).dest;
    for (let i = 2; i < 6; i++) expect(open(d, SVC, "203.0.113.7", 40000 + i).dest).toBe(first);
    const other = open(d, SVC, "203.0.113.8", 40001).dest;
    expect(other).not.toBe(first);
    const dests = d.findService(SVC)!.dests;
    expect(dests.reduce((n, x) => n + x.persistConns, 0)).toBe(2);
  });

  test("the netmask groups clients of one network", () => {
    const d = directorWith(persistent(300, 0xffffff00), [
      destConfig("198.51.100.11"),
      destConfig("198.51.100.12"),
    ]);
    const a = open(d, SVC, "203.0.113.7", 40001).dest;
    expect(open(d, SVC, "203.0.113.200", 40001).dest).toBe(a);
  });

  test("a template outlives its connections by the timeout, and waits 60 s at a time while it controls some", () => {
    const d = directorWith(persistent(100), [destConfig("198.51.100.11")]);
    const c = open(d, SVC, "203.0.113.7", 40001);
    const tpl = d.conns.control(c.slot);
    expect(d.conns.flags(tpl) & CONN_F_TEMPLATE).toBeTruthy();
    closeConn(d, c.slot); // TIME_WAIT: 120 s, longer than the template's 100 s
    d.advance(100_000);
    expect(d.conns.isLive(tpl)).toBe(true); // postponed: still controls the connection
    expect(d.conns.expires(tpl)).toBe(160_000);
    d.advance(120_000); // the connection goes
    expect(d.conns.isLive(c.slot)).toBe(false);
    d.advance(160_000);
    expect(d.conns.isLive(tpl)).toBe(false);
    expect(d.findService(SVC)!.dests[0].persistConns).toBe(0);
  });

  test("a deleted real server invalidates the template: the client is rescheduled", () => {
    const d = directorWith(persistent(300), [destConfig("198.51.100.11"), destConfig("198.51.100.12")]);
    const first = open(d, SVC, "203.0.113.7", 40001).dest!;
    const [addr, port] = first.split(":");
    expect(d.apply({ op: "delete-server", service: SVC, addr: ip(addr), port: Number(port) }).ok).toBe(true);
    const next = open(d, SVC, "203.0.113.7", 40002).dest;
    expect(next).not.toBeNull();
    expect(next).not.toBe(first);
  });

  test("a quiescent (weight 0) real server keeps its persistent clients", () => {
    const d = directorWith(persistent(300), [destConfig("198.51.100.11"), destConfig("198.51.100.12")]);
    const first = open(d, SVC, "203.0.113.7", 40001).dest!;
    const [addr, port] = first.split(":");
    d.apply({ op: "edit-server", service: SVC, dest: destConfig(addr, Number(port), { weight: 0 }) });
    expect(open(d, SVC, "203.0.113.7", 40002).dest).toBe(first);
    expect(open(d, SVC, "203.0.113.9", 40002).dest).not.toBe(first);
  });

  test("firewall-mark persistence holds across ports (80 and 443 go to one server)", () => {
    const FWM = { kind: "fwmark" as const, af: "inet" as const, fwmark: 1 };
    const d = directorWith(
      persistent(300),
      [destConfig("198.51.100.11", 0), destConfig("198.51.100.12", 0)],
      FWM,
    );
    const a = open(d, FWM, "203.0.113.7", 40001, 80, "192.0.2.10");
    const b = open(d, FWM, "203.0.113.7", 40002, 443, "192.0.2.10");
    expect(a.dest!.split(":")[0]).toBe(b.dest!.split(":")[0]);
    // The connection keeps the client's destination port (dest port 0).
    expect(b.dest).toMatch(/:443$/);
    const tpl = d.conns.control(a.slot);
    expect(d.conns.protoOf(tpl)).toBe(0);
    expect(d.conns.vaddr(tpl).text).toBe("0.0.0.1");
  });

  test("port-0 services need persistence; without it nothing is scheduled", () => {
    const ANY = tcpService("192.0.2.10", 0);
    const d = directorWith(svcConfig(), [destConfig("198.51.100.11", 0)], ANY);
    expect(open(d, ANY, "203.0.113.7", 40001, 8080).dest).toBeNull();
  });
});

describe("trash", () => {
  test("re-adding a deleted real server revives it with its live connection counts", () => {
    const d = directorWith(svcConfig(), [destConfig("198.51.100.11")]);
    open(d, SVC, "203.0.113.7", 40001);
    d.apply({ op: "delete-server", service: SVC, addr: ip("198.51.100.11"), port: 80 });
    expect(d.findService(SVC)!.dests.length).toBe(0);
    d.apply({ op: "add-server", service: SVC, dest: destConfig("198.51.100.11") });
    const dest = d.findService(SVC)!.dests[0];
    expect(dest.activeConns).toBe(1);
    expect(dest.stats.read().conns).toBe(1n);
  });
});
