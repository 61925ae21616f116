import { IPPROTO_TCP } from "../../src/conntrack/states.ts";
import { connect } from "../../src/director/conn-ops.ts";
import { Director } from "../../src/director/director.ts";
import { parseIp } from "../../src/model/addr.ts";
import type { DestConfig } from "../../src/model/dest.ts";
import type { ServiceConfig, ServiceId } from "../../src/model/service.ts";

export const ip = (s: string) => parseIp(s)!;

export function tcpService(addr = "192.0.2.10", port = 80): ServiceId {
  return { kind: "addr", af: "inet", protocol: "tcp", addr: ip(addr), port };
}

export function svcConfig(over: Partial<ServiceConfig> = {}): ServiceConfig {
  return { scheduler: "rr", flags: 0, timeout: 0, netmask: 0xffffffff, peName: null, ...over };
}

export function destConfig(addr: string, port = 80, over: Partial<DestConfig> = {}): DestConfig {
  return {
    af: "inet",
    addr: ip(addr),
    port,
    forward: "masq",
    weight: 1,
    uThreshold: 0,
    lThreshold: 0,
    tunnelType: "ipip",
    tunnelPort: 0,
    tunnelCsum: "nocsum",
    ...over,
  };
}

/** A director with one TCP service and the given dests added in order. */
export function directorWith(sched: ServiceConfig, dests: DestConfig[], id = tcpService()): Director {
  const d = new Director({});
  const r = d.apply({ op: "add-service", service: id, config: sched });
  if (!r.ok) throw new Error(r.errno);
  for (const dc of dests) {
    const a = d.apply({ op: "add-server", service: id, dest: dc });
    if (!a.ok) throw new Error(a.errno);
  }
  return d;
}

/** Open a TCP connection from client:cport to the service; returns the chosen dest key or null. */
export function open(d: Director, id: ServiceId, client: string, cport: number, vport = 80, vaddr?: string) {
  const svc = d.findService(id)!;
  const slot = connect(d, svc, {
    proto: IPPROTO_TCP,
    caddr: ip(client),
    cport,
    vaddr: vaddr ? ip(vaddr) : id.kind === "addr" ? id.addr : ip("0.0.0.0"),
    vport,
  });
  return { slot, dest: slot < 0 ? null : `${d.conns.daddr(slot).text}:${d.conns.dport(slot)}` };
}
