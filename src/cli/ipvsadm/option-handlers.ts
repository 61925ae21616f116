/**
 * What each non-command option does to the command entry, in ipvsadm's option loop: record the
 * option (duplicates fail), then validate its argument at once — so the first bad option wins.
 */
import { ipv4FromU32, ipv6FromWords, parseIpv4Strict, parseIpv6 } from "../../model/addr.ts";
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT } from "../../model/service.ts";
import { table } from "../../util/table.ts";
import type { Command } from "./command.ts";
import { fail } from "./fail.ts";
import { hostToU32, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, parseHostPort } from "./hostport.ts";
import type { NameDb } from "./names.ts";
import { atoi, stringToNumber, strtoulFull } from "./numbers.ts";
import type { OptName } from "./options.ts";

/** 31 days, ipvsadm's MAX_TIMEOUT. */
export const MAX_TIMEOUT = 86400 * 31;
/** IPVS_SVC_PERSISTENT_TIMEOUT: a bare -p means 6 minutes. */
export const DEFAULT_PERSISTENT_TIMEOUT = 360;
const INT_MAX = 2147483647;

export interface OptionEnv {
  names: NameDb;
  /** poptBadOption(): the argv word consumed last */
  badOption(): string;
}

function setOption(ce: Command, name: OptName): void {
  if (ce.options.has(name)) fail(`multiple '${name}' options specified`);
  ce.options.add(name);
}

/** parse_timeout() */
export function parseTimeout(arg: string | null, min: number, max: number): number {
  if (arg === null) return DEFAULT_PERSISTENT_TIMEOUT;
  const n = stringToNumber(arg, min, max);
  if (n === -1) fail(`invalid timeout value \`${arg}' specified`);
  return n;
}

function number(arg: string, min: number, max: number, message: string): number {
  const n = stringToNumber(arg, min, max);
  if (n === -1) fail(message);
  return n;
}

function parseFwmark(arg: string): number {
  const v = strtoulFull(arg);
  if (v === null || v <= 0n || v > 0xffffffffn) fail(`invalid fwmark value \`${arg}' specified`);
  return Number(v);
}

const SERVICE_PROTOCOL: Record<string, number> = table({
  t: IPPROTO_TCP,
  u: IPPROTO_UDP,
  "sctp-service": IPPROTO_SCTP,
});

function serviceOption(ce: Command, val: string, arg: string, env: OptionEnv): void {
  setOption(ce, "service-address");
  ce.svc.protocol = SERVICE_PROTOCOL[val];
  const hp = parseHostPort(arg, ce.svc.protocol, env.names);
  if (!hp) fail("illegal virtual server address[:port] specified");
  ce.svc.af = hp.af;
  ce.svc.addr = hp.addr;
  if (hp.af === "inet6") ce.svc.netmask = 128;
  if (hp.port !== null) ce.svc.port = hp.port;
}

function realServerOption(ce: Command, arg: string, env: OptionEnv): void {
  setOption(ce, "real-server");
  // Parsed with the service's protocol as known so far (port names need -t/-u first).
  const hp = parseHostPort(arg, ce.svc.protocol, env.names);
  if (!hp) fail("illegal real server address[:port] specified");
  ce.dest.af = hp.af;
  ce.dest.addr = hp.addr;
  ce.dest.port = hp.port ?? ce.svc.port;
}

function netmaskOption(ce: Command, arg: string, env: OptionEnv): void {
  setOption(ce, "netmask");
  if (ce.svc.af !== "inet6") {
    const m = hostToU32(arg, env.names);
    if (m === null) fail("illegal virtual server persistent mask specified");
    ce.svc.netmask = m;
  } else {
    const n = atoi(arg);
    ce.svc.netmask = n >>> 0;
    if (n < 1 || n > 128) fail("illegal ipv6 netmask specified");
  }
}

function mcastGroupOption(ce: Command, arg: string): void {
  setOption(ce, "mcast-group");
  if (arg.includes(":")) {
    const w = parseIpv6(arg);
    if (!w || w[0] >>> 24 !== 0xff) fail(`invalid IPv6 mcast-group \`${arg}'`);
    ce.daemon.group = ipv6FromWords(w);
  } else {
    const v = parseIpv4Strict(arg);
    if (v === null || v >>> 28 !== 0xe) fail(`invalid IPv4 mcast-group \`${arg}'`);
    ce.daemon.group = ipv4FromU32(v);
  }
}

const TUN_FLAG: Record<string, number> = table({ "tun-nocsum": 0, "tun-csum": 1, "tun-remcsum": 2 });
const FORWARD: Record<string, "masq" | "tunnel" | "route"> = table({ m: "masq", i: "tunnel", g: "route" });
const FORMAT_FLAG: Record<string, keyof Command["format"]> = table({
  stats: "stats",
  rate: "rate",
  thresholds: "thresholds",
  "persistent-conn": "persistentConn",
  nosort: "nosort",
  exact: "exact",
  "tun-info": "tunInfo",
});

function listOption(ce: Command, val: string): boolean {
  const flag = FORMAT_FLAG[val];
  if (flag) {
    setOption(ce, val as OptName);
    ce.format[flag] = true;
    return true;
  }
  if (val === "n" || val === "c" || val === "timeout" || val === "daemon") {
    const name: OptName = val === "n" ? "numeric" : val === "c" ? "connection" : val;
    setOption(ce, name);
    if (val === "n") ce.format.numeric = true;
    return true;
  }
  return val === "sort"; // accepted and ignored, never recorded
}

function serverOption(ce: Command, val: string, arg: string): boolean {
  switch (val) {
    case "w":
      setOption(ce, "weight");
      ce.dest.weight = number(arg, 0, 65535, "illegal weight specified");
      return true;
    case "x":
      setOption(ce, "u-threshold");
      ce.dest.uThreshold = number(arg, 0, INT_MAX, "illegal u_threshold specified");
      return true;
    case "y":
      setOption(ce, "l-threshold");
      ce.dest.lThreshold = number(arg, 0, INT_MAX, "illegal l_threshold specified");
      return true;
    case "tun-type":
      setOption(ce, "tun-type");
      if (arg !== "ipip" && arg !== "gue" && arg !== "gre") fail("illegal tunnel type specified");
      ce.dest.tunType = arg;
      return true;
    case "tun-port":
      setOption(ce, "tun-port");
      ce.dest.tunPort = number(arg, 1, 65535, "illegal tunnel port specified");
      return true;
  }
  return false;
}

function daemonOption(ce: Command, val: string, arg: string): boolean {
  switch (val) {
    case "mcast-interface":
      setOption(ce, "mcast-interface");
      ce.daemon.mcastIfn = arg.slice(0, 15);
      return true;
    case "syncid":
      setOption(ce, "syncid");
      ce.daemon.syncid = number(arg, 0, 255, "illegal syncid specified");
      return true;
    case "mcast-group":
      mcastGroupOption(ce, arg);
      return true;
    case "mcast-port":
      setOption(ce, "mcast-port");
      ce.daemon.port = number(arg, 1, 65535, "illegal mcast-port specified");
      return true;
    case "mcast-ttl":
      setOption(ce, "mcast-ttl");
      ce.daemon.ttl = number(arg, 1, 255, "illegal mcast-ttl specified");
      return true;
    case "sync-maxlen":
      setOption(ce, "sync-maxlen");
      ce.daemon.maxlen = number(arg, 1, 65535 - 20 - 8, "illegal sync-maxlen specified");
      return true;
  }
  return false;
}

function serviceConfigOption(ce: Command, val: string, arg: string | null, env: OptionEnv): boolean {
  switch (val) {
    case "f":
      setOption(ce, "service-address");
      ce.svc.af = "inet";
      ce.svc.protocol = IPPROTO_TCP;
      ce.svc.fwmark = parseFwmark(arg!);
      return true;
    case "6":
      // Not recorded as an option, so it may repeat; the C message ends in "\n" itself.
      if (!ce.svc.fwmark) fail("-6 used before -f\n");
      ce.svc.af = "inet6";
      ce.svc.netmask = 128;
      return true;
    case "s":
      setOption(ce, "scheduler");
      ce.svc.schedName = arg!.slice(0, 15);
      return true;
    case "p":
      setOption(ce, "persistent");
      ce.svc.flags |= SVC_F_PERSISTENT;
      ce.svc.timeout = parseTimeout(arg, 1, MAX_TIMEOUT);
      return true;
    case "M":
      netmaskOption(ce, arg!, env);
      return true;
    case "o":
      setOption(ce, "ops");
      ce.svc.flags |= SVC_F_ONEPACKET;
      return true;
    case "pe":
      setOption(ce, "pe");
      ce.svc.peName = arg!.slice(0, 31);
      return true;
  }
  return false;
}

/** One option of the loop after the command; unknown values are commands given twice. */
export function applyOption(
  ce: Command,
  val: string,
  arg: string | null,
  env: OptionEnv,
  schedFlags: { arg: string | null },
): void {
  if (val === "t" || val === "u" || val === "sctp-service") {
    serviceOption(ce, val, arg!, env);
    return;
  }
  if (val === "r") {
    realServerOption(ce, arg!, env);
    return;
  }
  if (val in FORWARD) {
    setOption(ce, "forwarding-method");
    ce.dest.forward = FORWARD[val];
    return;
  }
  if (val in TUN_FLAG) {
    setOption(ce, val as OptName);
    ce.dest.tunFlags |= TUN_FLAG[val];
    return;
  }
  if (val === "b") {
    setOption(ce, "sched-flags");
    schedFlags.arg = arg;
    return;
  }
  if (serviceConfigOption(ce, val, arg, env)) return;
  if (listOption(ce, val)) return;
  if (arg !== null && (serverOption(ce, val, arg) || daemonOption(ce, val, arg))) return;
  fail(`invalid option \`${env.badOption()}'`);
}
