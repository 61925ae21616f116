/** Service names and flag words shared by the listing (-L) and save (-S) formats. */
import { SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3 } from "../../model/service.ts";
import type { SvcEntry } from "./entries.ts";
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from "./hostport.ts";
import type { NameDb } from "./names.ts";
import { addrPort, signed32 } from "./text.ts";

const LIST_PROTO: Record<number, string> = {
  [IPPROTO_TCP]: "TCP",
  [IPPROTO_UDP]: "UDP",
  [IPPROTO_SCTP]: "SCTP",
};
const RULE_PROTO: Record<number, string> = {
  [IPPROTO_TCP]: "-t",
  [IPPROTO_UDP]: "-u",
  [IPPROTO_SCTP]: "--sctp-service",
};

/** The service as -L prints it (`TCP  a:p`, `FWM  n IPv6`) or -S spells it (`-t a:p`, `-f n -6`). */
export function serviceName(se: SvcEntry, rule: boolean, numeric: boolean, names: NameDb): string {
  if (se.fwmark) {
    // Marks are printed with %d: values >= 2^31 come out negative.
    const base = rule ? `-f ${signed32(se.fwmark)}` : `FWM  ${signed32(se.fwmark)}`;
    return se.af === "inet6" ? `${base}${rule ? " -6" : " IPv6"}` : base;
  }
  const vname = se.addr ? addrPort(se.af, se.addr, se.port, se.protocol, numeric, names) : "";
  if (rule) return `${RULE_PROTO[se.protocol] ?? "--xxx-service"} ${vname}`;
  const label = `${(LIST_PROTO[se.protocol] ?? "?").padEnd(4)} ${vname}`;
  return se.af === "inet6" ? label : label.slice(0, 33);
}

/** print_sched_flags(): names depend on the scheduler (sh/mh have their own for bits 1 and 2). */
export function schedFlagsText(se: SvcEntry): string {
  const prefix = se.sched === "sh" || se.sched === "mh" ? se.sched : null;
  const out: string[] = [];
  if (se.flags & SVC_F_SCHED1) out.push(prefix ? `${prefix}-fallback` : "flag-1");
  if (se.flags & SVC_F_SCHED2) out.push(prefix ? `${prefix}-port` : "flag-2");
  if (se.flags & SVC_F_SCHED3) out.push("flag-3");
  return out.join(",");
}

/** The persistence mask part, or "" when it is the full mask. */
export function maskText(se: SvcEntry): string {
  if (se.af === "inet") return se.netmask !== "255.255.255.255" ? String(se.netmask) : "";
  return Number(se.netmask) !== 128 ? String(se.netmask) : "";
}
