import { describe, expect, test } from "bun:test";
import type { KernelErrno } from "../../src/director/api.ts";
import { Director } from "../../src/director/director.ts";
import { destConfig, directorWith, ip, svcConfig, tcpService } from "../helpers/director.ts";

const SVC = tcpService();
const V6 = {
  kind: "addr" as const,
  af: "inet6" as const,
  protocol: "udp" as const,
  addr: ip("2001:db8::1"),
  port: 53,
};

describe("kernel checks on configuration changes", () => {
  const cases: [string, (d: Director) => ReturnType<Director["apply"]>, KernelErrno | null][] = [
    [
      "add an existing service",
      (d) => d.apply({ op: "add-service", service: SVC, config: svcConfig() }),
      "EEXIST",
    ],
    [
      "add with an unknown scheduler",
      (d) =>
        d.apply({
          op: "add-service",
          service: tcpService("192.0.2.11"),
          config: svcConfig({ scheduler: "nosuch" }),
        }),
      "ENOENT",
    ],
    [
      "add with scheduler none",
      (d) =>
        d.apply({
          op: "add-service",
          service: tcpService("192.0.2.11"),
          config: svcConfig({ scheduler: "none" }),
        }),
      null,
    ],
    [
      "add with an unknown persistence engine",
      (d) =>
        d.apply({
          op: "add-service",
          service: tcpService("192.0.2.11"),
          config: svcConfig({ peName: "xyz" }),
        }),
      "ENOENT",
    ],
    [
      "IPv6 prefix 0",
      (d) => d.apply({ op: "add-service", service: V6, config: svcConfig({ netmask: 0 }) }),
      "EINVAL",
    ],
    [
      "edit a missing service",
      (d) => d.apply({ op: "edit-service", service: tcpService("192.0.2.99"), config: svcConfig() }),
      "ESRCH",
    ],
    [
      "delete a missing service",
      (d) => d.apply({ op: "delete-service", service: tcpService("192.0.2.99") }),
      "ESRCH",
    ],
    ["zero a missing service", (d) => d.apply({ op: "zero", service: tcpService("192.0.2.99") }), "ESRCH"],
    [
      "add a dest to a missing service",
      (d) =>
        d.apply({ op: "add-server", service: tcpService("192.0.2.99"), dest: destConfig("198.51.100.20") }),
      "ESRCH",
    ],
    [
      "add an existing dest",
      (d) => d.apply({ op: "add-server", service: SVC, dest: destConfig("198.51.100.11") }),
      "EEXIST",
    ],
    [
      "l_threshold above u_threshold",
      (d) =>
        d.apply({ op: "add-server", service: SVC, dest: destConfig("198.51.100.20", 80, { lThreshold: 5 }) }),
      "ERANGE",
    ],
    [
      "gue without a port",
      (d) =>
        d.apply({
          op: "add-server",
          service: SVC,
          dest: destConfig("198.51.100.20", 80, { forward: "tunnel", tunnelType: "gue" }),
        }),
      "EINVAL",
    ],
    [
      "a multicast real server",
      (d) => d.apply({ op: "add-server", service: SVC, dest: destConfig("224.0.0.5") }),
      "EINVAL",
    ],
    [
      "a 0.0.0.0 real server",
      (d) => d.apply({ op: "add-server", service: SVC, dest: destConfig("0.0.0.0") }),
      "EINVAL",
    ],
    [
      "edit a missing dest",
      (d) => d.apply({ op: "edit-server", service: SVC, dest: destConfig("198.51.100.99") }),
      "ENOENT",
    ],
    [
      "delete a missing dest",
      (d) => d.apply({ op: "delete-server", service: SVC, addr: ip("198.51.100.99"), port: 80 }),
      "ENOENT",
    ],
    [
      "start a master twice",
      (d) => {
        d.apply({ op: "start-daemon", daemon: { state: "master", mcastIfn: "eth0", syncid: 0 } });
        return d.apply({ op: "start-daemon", daemon: { state: "master", mcastIfn: "eth0", syncid: 0 } });
      },
      "EEXIST",
    ],
    [
      "stop a daemon that is not running",
      (d) => d.apply({ op: "stop-daemon", state: "backup", syncid: 0 }),
      "ESRCH",
    ],
  ];
  for (const [name, run, errno] of cases) {
    test(name, () => {
      const d = directorWith(svcConfig(), [destConfig("198.51.100.11")]);
      const r = run(d);
      expect(r.ok ? null : r.errno).toBe(errno);
    });
  }
});

describe("edits", () => {
  test("-E with a different scheduler re-initialises it over the current dests; same name keeps state", () => {
    const d = directorWith(svcConfig({ scheduler: "rr" }), [
      destConfig("198.51.100.11"),
      destConfig("198.51.100.12"),
    ]);
    const svc = d.findService(SVC)!;
    const rr = svc.sched;
    d.apply({ op: "edit-service", service: SVC, config: svcConfig({ scheduler: "rr" }) });
    expect(svc.sched).toBe(rr);
    d.apply({ op: "edit-service", service: SVC, config: svcConfig({ scheduler: "wlc" }) });
    expect(svc.sched?.name).toBe("wlc");
    expect(svc.scheduler).toBe("wlc");
  });

  test("weight 0 keeps last_weight; an edit raising u_threshold clears OVERLOAD", () => {
    const d = directorWith(svcConfig(), [destConfig("198.51.100.11", 80, { weight: 5 })]);
    const dest = d.findService(SVC)!.dests[0];
    d.apply({ op: "edit-server", service: SVC, dest: destConfig("198.51.100.11", 80, { weight: 0 }) });
    expect([dest.weight, dest.lastWeight]).toEqual([0, 5]);
    dest.overloaded = true;
    d.apply({
      op: "edit-server",
      service: SVC,
      dest: destConfig("198.51.100.11", 80, { weight: 0, uThreshold: 10 }),
    });
    expect(dest.overloaded).toBe(false);
  });

  test("new destinations go to the front of the list", () => {
    const d = directorWith(svcConfig(), [
      destConfig("198.51.100.11"),
      destConfig("198.51.100.12"),
      destConfig("198.51.100.13"),
    ]);
    expect(d.findService(SVC)!.dests.map((x) => x.addr.text)).toEqual([
      "198.51.100.13",
      "198.51.100.12",
      "198.51.100.11",
    ]);
  });

  test("--set changes tcp, tcpfin and udp; 0 keeps a value", () => {
    const d = new Director();
    d.apply({ op: "set-timeouts", tcp: 7200, tcpfin: 0, udp: 30 });
    expect(d.timeouts.triple).toEqual({ tcp: 7200, tcpfin: 120, udp: 30 });
  });
});
