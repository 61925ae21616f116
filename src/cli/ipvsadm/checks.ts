/**
 * The checks ipvsadm runs after the option loop: scheduler flags, the command × option table
 * (generic_opt_check), list conflicts, and the -A/-E and -a/-e consistency rules.
 */
import { SCHED_FLAGS, SVC_F_ONEPACKET, SVC_F_PERSISTENT } from "../../model/service.ts";
import { table } from "../../util/table.ts";
import type { Command } from "./command.ts";
import { fail } from "./fail.ts";
import { IPPROTO_UDP } from "./hostport.ts";
import { LEGALITY, OPT_NAMES, type OptName } from "./options.ts";

export const DEFAULT_SCHEDULER = "wlc";

/** parse_sched_flags(): strtok on ',' (empty tokens vanish), checked against -s or wlc. */
export function parseSchedFlags(schedName: string, arg: string): number {
  const sched = schedName || DEFAULT_SCHEDULER;
  let flags = 0;
  for (const token of arg.split(",").filter((t) => t !== "")) {
    const f = SCHED_FLAGS[token]; // a table without a prototype: "toString" is not a flag
    if (!f) fail(`invalid scheduler flag \`${token}'`);
    flags |= f.bit;
    if (f.needs && f.needs !== sched) fail(`incompatible scheduler flag \`${token}'`);
  }
  return flags;
}

/** generic_opt_check(): one pass in option-index order over required, illegal and exclusive. */
export function genericOptCheck(ce: Command): void {
  const cmdName = ce.cmd;
  const row = LEGALITY[cmdName];
  let first: OptName | null = null;
  OPT_NAMES.forEach((opt, j) => {
    const rule = row[j];
    if (!ce.options.has(opt)) {
      if (rule === "+") fail(`You need to supply the '${opt}' option for the '${cmdName}' command`);
      return;
    }
    if (rule === "x") fail(`Illegal '${opt}' option with the '${cmdName}' command`);
    if (rule === "1") {
      if (first === null) first = opt;
      else fail(`The option '${opt}' conflicts with the '${first}' option in the '${cmdName}' command`);
    }
  });
}

export function listConflictCheck(ce: Command): void {
  const has = (o: OptName) => ce.options.has(o);
  const view = has("connection") || has("timeout") || has("daemon");
  const detail = has("stats") || has("rate") || has("thresholds");
  if ((view && detail) || ((has("timeout") || has("daemon")) && has("persistent-conn"))) {
    fail("options conflicts in the list command");
  }
}

export function serviceCheck(ce: Command): void {
  const svc = ce.svc;
  if (!svc.fwmark && !svc.port && !(svc.flags & SVC_F_PERSISTENT))
    fail("Zero port specified for non-persistent service");
  if (svc.flags & SVC_F_ONEPACKET && !svc.fwmark && svc.protocol !== IPPROTO_UDP) {
    fail("One-Packet Scheduling is only for UDP virtual services");
  }
  if (svc.schedName === "") svc.schedName = DEFAULT_SCHEDULER;
}

const TUN_OPTS: OptName[] = ["tun-port", "tun-nocsum", "tun-csum", "tun-remcsum"];
const TUN_MATRIX: Record<string, string> = table({ ipip: "xxxx", gue: "+111", gre: "x11x" });

function tunnelMatrixCheck(ce: Command): void {
  const type = ce.dest.tunType;
  const rules = TUN_MATRIX[type];
  let first: OptName | null = null;
  TUN_OPTS.forEach((opt, j) => {
    const rule = rules[j];
    if (!ce.options.has(opt)) {
      if (rule === "+") fail(`You need to supply the '${opt}' option for the '${type}' tunnel type`);
      return;
    }
    if (rule === "x") fail(`Illegal '${opt}' option with the '${type}' tunnel type`);
    if (rule === "1") {
      if (first === null) first = opt;
      else fail(`The option '${opt}' conflicts with the '${first}' option in the '${type}' tunnel type`);
    }
  });
}

export function serverCheck(ce: Command): void {
  const { svc, dest } = ce;
  dest.forward ??= "route"; // -g is the default
  // Direct routing and tunnelling cannot change the port: ipvsadm silently uses the service's.
  if (!svc.fwmark && (dest.forward === "tunnel" || dest.forward === "route")) dest.port = svc.port;
  if (dest.af !== svc.af && dest.forward !== "tunnel") {
    fail("Different address family is allowed only for tunneling servers");
  }
  const tunOptions = ["tun-type", ...TUN_OPTS].some((o) => ce.options.has(o as OptName));
  if (dest.forward !== "tunnel") {
    if (tunOptions) fail("Tunnel options conflict with forward method");
    return;
  }
  tunnelMatrixCheck(ce);
}
