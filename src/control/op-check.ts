/**
 * A Director op as it comes over the control socket (JSON), checked field by field before it
 * reaches the table: a client that is not our ipvsadm (a script, a bug, a newer version) gets
 * "bad op: <field> …" back, never an exception from deep inside, and nothing half-applied.
 * Addresses are rebuilt from their text, so an address's words always agree with it.
 */
import type { DirectorOp, SyncDaemonConfig } from "../director/api.ts";
import { type IpAddr, parseIp } from "../model/addr.ts";
import type { DestConfig } from "../model/dest.ts";
import type { ServiceConfig, ServiceId } from "../model/service.ts";

class Bad extends Error {}

type Obj = Record<string, unknown>;

function obj(v: unknown, at: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Bad(`${at}: expected an object`);
  return v as Obj;
}

function int(o: Obj, k: string, at: string, min: number, max: number): number {
  const v = o[k];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw new Bad(`${at}.${k}: expected an integer ${min}..${max}`);
  return v;
}

function oneOf<T extends string>(o: Obj, k: string, at: string, values: readonly T[]): T {
  const v = o[k];
  if (typeof v !== "string" || !(values as readonly string[]).includes(v))
    throw new Bad(`${at}.${k}: expected one of ${values.join(", ")}`);
  return v as T;
}

function addr(v: unknown, at: string): IpAddr {
  const text = obj(v, at).text;
  const a = typeof text === "string" ? parseIp(text) : null;
  if (!a) throw new Bad(`${at}.text: expected an IPv4 or IPv6 address`);
  return a;
}

const FAMILIES = ["inet", "inet6"] as const;
const U32 = 0xffffffff;

function serviceId(v: unknown, at: string): ServiceId {
  const o = obj(v, at);
  const af = oneOf(o, "af", at, FAMILIES);
  if (o.kind === "fwmark") return { kind: "fwmark", af, fwmark: int(o, "fwmark", at, 1, U32) };
  if (o.kind !== "addr") throw new Bad(`${at}.kind: expected addr or fwmark`);
  return {
    kind: "addr",
    af,
    protocol: oneOf(o, "protocol", at, ["tcp", "udp", "sctp"] as const),
    addr: addr(o.addr, `${at}.addr`),
    port: int(o, "port", at, 0, 65535),
  };
}

function serviceConfig(v: unknown, at: string): ServiceConfig {
  const o = obj(v, at);
  if (typeof o.scheduler !== "string" || o.scheduler.length > 64)
    throw new Bad(`${at}.scheduler: expected a name`);
  if (o.peName !== null && typeof o.peName !== "string")
    throw new Bad(`${at}.peName: expected a name or null`);
  return {
    scheduler: o.scheduler,
    flags: int(o, "flags", at, 0, U32),
    timeout: int(o, "timeout", at, 0, U32),
    netmask: int(o, "netmask", at, 0, U32),
    peName: o.peName as string | null,
  };
}

function destConfig(v: unknown, at: string): DestConfig {
  const o = obj(v, at);
  return {
    af: oneOf(o, "af", at, FAMILIES),
    addr: addr(o.addr, `${at}.addr`),
    port: int(o, "port", at, 0, 65535),
    forward: oneOf(o, "forward", at, ["masq", "local", "tunnel", "route"] as const),
    // The kernel's own ranges: a negative weight is its ERANGE, so it passes to the director.
    weight: int(o, "weight", at, -0x80000000, 0x7fffffff),
    uThreshold: int(o, "uThreshold", at, 0, U32),
    lThreshold: int(o, "lThreshold", at, 0, U32),
    tunnelType: oneOf(o, "tunnelType", at, ["ipip", "gue", "gre"] as const),
    tunnelPort: int(o, "tunnelPort", at, 0, 65535),
    tunnelCsum: oneOf(o, "tunnelCsum", at, ["nocsum", "csum", "remcsum"] as const),
  };
}

function syncDaemon(v: unknown, at: string): SyncDaemonConfig {
  const o = obj(v, at);
  if (typeof o.mcastIfn !== "string") throw new Bad(`${at}.mcastIfn: expected an interface name`);
  const d: SyncDaemonConfig = {
    state: oneOf(o, "state", at, ["master", "backup"] as const),
    mcastIfn: o.mcastIfn,
    syncid: int(o, "syncid", at, 0, 255),
  };
  if (o.maxlen !== undefined) d.maxlen = int(o, "maxlen", at, 0, 65535);
  if (o.group !== undefined) d.group = addr(o.group, `${at}.group`);
  if (o.port !== undefined) d.port = int(o, "port", at, 0, 65535);
  if (o.ttl !== undefined) d.ttl = int(o, "ttl", at, 0, 255);
  return d;
}

function checked(v: unknown): DirectorOp {
  const o = obj(v, "op");
  switch (o.op) {
    case "add-service":
    case "edit-service":
      return {
        op: o.op,
        service: serviceId(o.service, "service"),
        config: serviceConfig(o.config, "config"),
      };
    case "delete-service":
      return { op: o.op, service: serviceId(o.service, "service") };
    case "flush":
      return { op: "flush" };
    case "add-server":
    case "edit-server":
      return { op: o.op, service: serviceId(o.service, "service"), dest: destConfig(o.dest, "dest") };
    case "delete-server":
      return {
        op: o.op,
        service: serviceId(o.service, "service"),
        addr: addr(o.addr, "addr"),
        port: int(o, "port", "op", 0, 65535),
      };
    case "zero":
      return { op: o.op, service: o.service === null ? null : serviceId(o.service, "service") };
    case "set-timeouts":
      return {
        op: o.op,
        tcp: int(o, "tcp", "op", 0, U32),
        tcpfin: int(o, "tcpfin", "op", 0, U32),
        udp: int(o, "udp", "op", 0, U32),
      };
    case "start-daemon":
      return { op: o.op, daemon: syncDaemon(o.daemon, "daemon") };
    case "stop-daemon":
      return {
        op: o.op,
        state: oneOf(o, "state", "op", ["master", "backup"] as const),
        syncid: int(o, "syncid", "op", 0, 255),
      };
    default:
      throw new Bad(`op.op: unknown operation ${JSON.stringify(o.op)}`);
  }
}

/** The op, well-formed; or what is wrong with it. */
export function checkOp(v: unknown): DirectorOp | string {
  try {
    return checked(v);
  } catch (e) {
    if (e instanceof Bad) return `bad op: ${e.message}`;
    throw e;
  }
}
