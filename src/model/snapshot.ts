/**
 * The `uvs-state/1` snapshot: everything the ipvsadm listings show, as one JSON document
 * (../shared/fixtures/ipvsadm/README.md, "scenario.json"). `ipvsgold-scenario/1` is read as an
 * alias. Counters and rates are unsigned 64-bit and kept as bigint.
 */

import { parseJsonBig } from "../util/json-big.ts";
import { parseIp } from "./addr.ts";
import type { RateValues, StatsValues } from "./stats.ts";

export const SNAPSHOT_SCHEMA = "uvs-state/1";
const SCHEMA_ALIASES = new Set([SNAPSHOT_SCHEMA, "ipvsgold-scenario/1"]);

export type SnapFamily = "inet" | "inet6";

export interface SnapDest {
  af: SnapFamily;
  address: string;
  port: number;
  forward: "masq" | "route" | "tunnel" | "local";
  weight: number;
  u_threshold: number;
  l_threshold: number;
  active_conns: number;
  inactive_conns: number;
  persistent_conns: number;
  tunnel_type: "ipip" | "gue" | "gre";
  tunnel_port: number;
  tunnel_csum: "nocsum" | "csum" | "remcsum";
  stats: StatsValues;
  rates: RateValues;
}

export interface SnapService {
  af: SnapFamily;
  protocol: "tcp" | "udp" | "sctp" | null;
  address: string | null;
  port: number | null;
  fwmark: number | null;
  scheduler: string;
  sched_flags: string[];
  persistent: boolean;
  persistence_timeout: number;
  /** Dotted mask for inet, prefix length for inet6. */
  netmask: string | number;
  one_packet: boolean;
  pe_name: string | null;
  flags_raw: number;
  stats: StatsValues;
  rates: RateValues;
  destinations: SnapDest[];
}

export interface SnapConn {
  protocol: string;
  af: SnapFamily;
  client_address: string;
  client_port: number;
  virtual_address: string;
  virtual_port: number;
  dest_af: SnapFamily;
  dest_address: string;
  dest_port: number;
  state: string;
  expires: number;
  pe_name: string | null;
  pe_data: string | null;
  template: boolean;
}

export interface SnapSyncDaemon {
  state: "master" | "backup";
  mcast_ifn: string;
  syncid: number;
  sync_maxlen: number;
  mcast_group: string | null;
  mcast_port: number;
  mcast_ttl: number;
}

/** The last result of a health check (issue 4). */
export interface SnapHealthResult {
  ok: boolean;
  /** What was tried and what failed: "HTTP GET 127.0.0.1:80/health: status 503, expected 200". */
  message: string;
  latencyMs: number;
  /** Epoch ms. */
  at: number;
}

/** One real server × checker of one virtual service. */
export interface SnapHealth {
  /** The service key, e.g. "tcp:192.0.2.1:80" or "fwm:7". */
  service: string;
  /** "addr:port" of the real server ("[v6]:port" for IPv6). */
  server: string;
  /** TCP_CHECK, HTTP_GET, MISC_CHECK, … */
  checker: string;
  state: "up" | "down";
  /** Epoch ms of the last state change (or of the checker's start). */
  since: number;
  last: SnapHealthResult | null;
}

export interface Snapshot {
  schema: string;
  ipvs_info: { version: string; version_code: number; conn_tab_size: number };
  timeouts: { tcp: number; tcpfin: number; udp: number };
  sync_daemons: SnapSyncDaemon[];
  services: SnapService[];
  connections: SnapConn[];
  /** Health checks, when the daemon runs any (optional; absent in older snapshots). */
  health?: SnapHealth[];
  /** Fields this reader does not know are carried along untouched. */
  [extra: string]: unknown;
}

export class SnapshotError extends Error {
  override name = "SnapshotError";
}

/** Parse and validate snapshot text; throws SnapshotError naming the field that is wrong. */
export function parseSnapshot(text: string): Snapshot {
  let raw: unknown;
  try {
    raw = parseJsonBig(text);
  } catch (e) {
    throw new SnapshotError(`not valid JSON: ${(e as Error).message}`);
  }
  return validateSnapshot(raw);
}

type Obj = Record<string, unknown>;

/**
 * A JSON value as an error message shows it. Never throws: String() of an object whose toString
 * is not a function does (`{"toString": null}` is valid JSON).
 */
function shown(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object" && v !== null) return "an object";
  if (typeof v === "bigint") return v.toString();
  return JSON.stringify(v) ?? "nothing";
}

class V {
  constructor(readonly path: string) {}
  fail(msg: string): never {
    throw new SnapshotError(`${this.path}: ${msg}`);
  }
  at(key: string | number): V {
    return new V(typeof key === "number" ? `${this.path}[${key}]` : `${this.path}.${key}`);
  }
  obj(v: unknown): Obj {
    if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail("expected an object");
    return v as Obj;
  }
  arr(v: unknown): unknown[] {
    if (!Array.isArray(v)) this.fail("expected an array");
    return v as unknown[];
  }
  int(v: unknown, min: number, max: number): number {
    if (typeof v !== "number" || !Number.isInteger(v)) this.fail(`expected an integer, got ${shown(v)}`);
    if ((v as number) < min || (v as number) > max) this.fail(`${v} is out of range ${min}..${max}`);
    return v as number;
  }
  u64(v: unknown): bigint {
    if (typeof v === "bigint") {
      if (v < 0n || v >= 1n << 64n) this.fail(`${v} is out of range 0..2^64-1`);
      return v;
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
      this.fail("expected an unsigned 64-bit integer");
    return BigInt(v as number);
  }
  bool(v: unknown): boolean {
    if (typeof v !== "boolean") this.fail("expected true or false");
    return v as boolean;
  }
  str(v: unknown): string {
    if (typeof v !== "string") this.fail("expected a string");
    return v as string;
  }
  strOrNull(v: unknown): string | null {
    return v === null || v === undefined ? null : this.str(v);
  }
  oneOf<T extends string>(v: unknown, allowed: readonly T[]): T {
    if (typeof v !== "string" || !allowed.includes(v as T))
      this.fail(`expected one of ${allowed.join(", ")}`);
    return v as T;
  }
  ip(v: unknown, af?: SnapFamily): string {
    const s = this.str(v);
    const a = parseIp(s);
    if (!a) this.fail(`${JSON.stringify(s)} is not an IP address`);
    if (af && a!.af !== af) this.fail(`${JSON.stringify(s)} is not an ${af} address`);
    return a!.text;
  }
}

const U32 = 0xffffffff;
const FAMILIES = ["inet", "inet6"] as const;

function stats(v: V, raw: unknown): StatsValues {
  const o = raw === undefined ? {} : v.obj(raw);
  const f = (k: string) => (o[k] === undefined ? 0n : v.at(k).u64(o[k]));
  return {
    conns: f("conns"),
    inpkts: f("inpkts"),
    outpkts: f("outpkts"),
    inbytes: f("inbytes"),
    outbytes: f("outbytes"),
  };
}

function rates(v: V, raw: unknown): RateValues {
  const o = raw === undefined ? {} : v.obj(raw);
  const f = (k: string) => (o[k] === undefined ? 0n : v.at(k).u64(o[k]));
  return { cps: f("cps"), inpps: f("inpps"), outpps: f("outpps"), inbps: f("inbps"), outbps: f("outbps") };
}

function num(v: V, o: Obj, key: string, min: number, max: number, dflt: number): number {
  return o[key] === undefined || o[key] === null ? dflt : v.at(key).int(o[key], min, max);
}

function dest(v: V, raw: unknown): SnapDest {
  const o = v.obj(raw);
  const af = v.at("af").oneOf(o.af ?? "inet", FAMILIES);
  return {
    af,
    address: v.at("address").ip(o.address, af),
    port: num(v, o, "port", 0, 65535, 0),
    forward: v.at("forward").oneOf(o.forward ?? "route", ["masq", "route", "tunnel", "local"] as const),
    weight: num(v, o, "weight", 0, 2147483647, 1),
    u_threshold: num(v, o, "u_threshold", 0, U32, 0),
    l_threshold: num(v, o, "l_threshold", 0, U32, 0),
    active_conns: num(v, o, "active_conns", 0, U32, 0),
    inactive_conns: num(v, o, "inactive_conns", 0, U32, 0),
    persistent_conns: num(v, o, "persistent_conns", 0, U32, 0),
    tunnel_type: v.at("tunnel_type").oneOf(o.tunnel_type ?? "ipip", ["ipip", "gue", "gre"] as const),
    tunnel_port: num(v, o, "tunnel_port", 0, 65535, 0),
    tunnel_csum: v.at("tunnel_csum").oneOf(o.tunnel_csum ?? "nocsum", ["nocsum", "csum", "remcsum"] as const),
    stats: stats(v.at("stats"), o.stats),
    rates: rates(v.at("rates"), o.rates),
  };
}

const SCHED_FLAG_NAMES = [
  "sh-fallback",
  "sh-port",
  "mh-fallback",
  "mh-port",
  "flag-1",
  "flag-2",
  "flag-3",
] as const;

function service(v: V, raw: unknown): SnapService {
  const o = v.obj(raw);
  const af = v.at("af").oneOf(o.af ?? "inet", FAMILIES);
  const fwmark = o.fwmark === null || o.fwmark === undefined ? null : v.at("fwmark").int(o.fwmark, 1, U32);
  let protocol: SnapService["protocol"] = null;
  let address: string | null = null;
  let port: number | null = null;
  if (fwmark === null) {
    protocol = v.at("protocol").oneOf(o.protocol, ["tcp", "udp", "sctp"] as const);
    address = v.at("address").ip(o.address, af);
    port = v.at("port").int(o.port, 0, 65535);
  }
  const flagsV = v.at("sched_flags");
  const schedFlags =
    o.sched_flags === undefined
      ? []
      : flagsV.arr(o.sched_flags).map((f, i) => flagsV.at(i).oneOf(f, SCHED_FLAG_NAMES));
  const persistent = o.persistent === undefined ? false : v.at("persistent").bool(o.persistent);
  let netmask: string | number;
  if (af === "inet") {
    const m = o.netmask ?? "255.255.255.255";
    netmask = v.at("netmask").ip(m, "inet");
  } else {
    netmask = num(v, o, "netmask", 0, 128, 128);
  }
  const destV = v.at("destinations");
  return {
    af,
    protocol,
    address,
    port,
    fwmark,
    scheduler: v.at("scheduler").str(o.scheduler ?? "wlc"),
    sched_flags: schedFlags,
    persistent,
    persistence_timeout: num(v, o, "persistence_timeout", 0, U32, 0),
    netmask,
    one_packet: o.one_packet === undefined ? false : v.at("one_packet").bool(o.one_packet),
    pe_name: v.at("pe_name").strOrNull(o.pe_name),
    flags_raw: num(v, o, "flags_raw", 0, U32, 2),
    stats: stats(v.at("stats"), o.stats),
    rates: rates(v.at("rates"), o.rates),
    destinations:
      o.destinations === undefined ? [] : destV.arr(o.destinations).map((d, i) => dest(destV.at(i), d)),
  };
}

function conn(v: V, raw: unknown): SnapConn {
  const o = v.obj(raw);
  const af = v.at("af").oneOf(o.af ?? "inet", FAMILIES);
  const destAf = v.at("dest_af").oneOf(o.dest_af ?? af, FAMILIES);
  return {
    protocol: v.at("protocol").str(o.protocol),
    af,
    client_address: v.at("client_address").ip(o.client_address, af),
    client_port: num(v, o, "client_port", 0, 65535, 0),
    virtual_address: v.at("virtual_address").ip(o.virtual_address, af),
    virtual_port: num(v, o, "virtual_port", 0, 65535, 0),
    dest_af: destAf,
    dest_address: v.at("dest_address").ip(o.dest_address, destAf),
    dest_port: num(v, o, "dest_port", 0, 65535, 0),
    state: v.at("state").str(o.state),
    expires: num(v, o, "expires", 0, U32, 0),
    pe_name: v.at("pe_name").strOrNull(o.pe_name),
    pe_data: v.at("pe_data").strOrNull(o.pe_data),
    template: o.template === undefined ? false : v.at("template").bool(o.template),
  };
}

function syncDaemon(v: V, raw: unknown): SnapSyncDaemon {
  const o = v.obj(raw);
  return {
    state: v.at("state").oneOf(o.state, ["master", "backup"] as const),
    mcast_ifn: v.at("mcast_ifn").str(o.mcast_ifn ?? "eth0"),
    syncid: num(v, o, "syncid", 0, 255, 0),
    sync_maxlen: num(v, o, "sync_maxlen", 0, 65535, 0),
    mcast_group: v.at("mcast_group").strOrNull(o.mcast_group),
    mcast_port: num(v, o, "mcast_port", 0, 65535, 0),
    mcast_ttl: num(v, o, "mcast_ttl", 0, 255, 0),
  };
}

function healthResult(v: V, raw: unknown): SnapHealthResult | null {
  if (raw === null || raw === undefined) return null;
  const o = v.obj(raw);
  const n = (k: string) => {
    if (typeof o[k] !== "number" || !Number.isFinite(o[k])) v.at(k).fail("expected a number");
    return o[k] as number;
  };
  return {
    ok: v.at("ok").bool(o.ok),
    message: v.at("message").str(o.message),
    latencyMs: n("latencyMs"),
    at: n("at"),
  };
}

function healthEntry(v: V, raw: unknown): SnapHealth {
  const o = v.obj(raw);
  return {
    service: v.at("service").str(o.service),
    server: v.at("server").str(o.server),
    checker: v.at("checker").str(o.checker),
    state: v.at("state").oneOf(o.state, ["up", "down"] as const),
    since: v.at("since").int(o.since, 0, Number.MAX_SAFE_INTEGER),
    last: healthResult(v.at("last"), o.last),
  };
}

export function validateSnapshot(raw: unknown): Snapshot {
  const v = new V("snapshot");
  const o = v.obj(raw);
  const schema = o.schema === undefined ? SNAPSHOT_SCHEMA : v.at("schema").str(o.schema);
  if (!SCHEMA_ALIASES.has(schema))
    v.at("schema").fail(`unknown schema ${JSON.stringify(schema)} (expected ${SNAPSHOT_SCHEMA})`);
  const infoV = v.at("ipvs_info");
  const info = o.ipvs_info === undefined ? {} : infoV.obj(o.ipvs_info);
  const version = info.version === undefined ? "1.2.1" : infoV.at("version").str(info.version);
  if (!/^\d+\.\d+\.\d+$/.test(version))
    infoV.at("version").fail(`${JSON.stringify(version)} is not a dotted version`);
  const [ma, mi, pa] = version.split(".").map(Number);
  const tV = v.at("timeouts");
  const t = o.timeouts === undefined ? {} : tV.obj(o.timeouts);
  const svcV = v.at("services");
  const connV = v.at("connections");
  const syncV = v.at("sync_daemons");
  const healthV = v.at("health");
  return {
    ...o,
    schema,
    ipvs_info: {
      version,
      version_code: (ma << 16) | (mi << 8) | pa,
      conn_tab_size: num(infoV, info, "conn_tab_size", 0, U32, 4096),
    },
    timeouts: {
      tcp: num(tV, t, "tcp", 0, U32, 900),
      tcpfin: num(tV, t, "tcpfin", 0, U32, 120),
      udp: num(tV, t, "udp", 0, U32, 300),
    },
    sync_daemons:
      o.sync_daemons === undefined ? [] : syncV.arr(o.sync_daemons).map((d, i) => syncDaemon(syncV.at(i), d)),
    services: o.services === undefined ? [] : svcV.arr(o.services).map((s, i) => service(svcV.at(i), s)),
    connections:
      o.connections === undefined ? [] : connV.arr(o.connections).map((c, i) => conn(connV.at(i), c)),
    ...(o.health === undefined
      ? {}
      : { health: healthV.arr(o.health).map((h, i) => healthEntry(healthV.at(i), h)) }),
  };
}

/** An empty table, as a freshly loaded ip_vs module would report. */
export function emptySnapshot(): Snapshot {
  return {
    schema: SNAPSHOT_SCHEMA,
    ipvs_info: { version: "1.2.1", version_code: 0x010201, conn_tab_size: 4096 },
    timeouts: { tcp: 900, tcpfin: 120, udp: 300 },
    sync_daemons: [],
    services: [],
    connections: [],
  };
}
