/** -S: the table as ipvsadm command lines (print_service_entry with FMT_RULE). */
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED_MASK } from "../../model/service.ts";
import type { Snapshot } from "../../model/snapshot.ts";
import type { DestEntry, SvcEntry } from "./entries.ts";
import { sortedDests, sortedServices } from "./format.ts";
import { maskText, schedFlagsText, serviceName } from "./labels.ts";
import type { NameDb } from "./names.ts";
import { addrPort } from "./text.ts";

/** Local forwarding is saved as -g (there is no option for it). */
const FWD_SWITCH: Record<DestEntry["forward"], string> = {
  masq: "-m",
  tunnel: "-i",
  route: "-g",
  local: "-g",
};
const CSUM_OPT: Record<DestEntry["tunCsum"], string> = {
  nocsum: "--tun-nocsum",
  csum: "--tun-csum",
  remcsum: "--tun-remcsum",
};

function serviceRule(se: SvcEntry, svcName: string): string {
  let s = `-A ${svcName} -s ${se.sched}`;
  if (se.flags & SVC_F_PERSISTENT) {
    s += ` -p ${se.timeout}`;
    const mask = maskText(se);
    if (mask) s += ` -M ${mask}`;
  }
  // The PE is saved even when the service is not persistent (-L shows it only when it is).
  if (se.peName) s += ` --pe ${se.peName}`;
  if (se.flags & SVC_F_ONEPACKET) s += " -o";
  if (se.flags & SVC_F_SCHED_MASK) s += ` -b ${schedFlagsText(se)}`;
  return `${s}\n`;
}

function tunnelRule(d: DestEntry): string {
  if (d.forward !== "tunnel") return "";
  if (d.tunType === "gue") return ` --tun-type gue --tun-port ${d.tunPort} ${CSUM_OPT[d.tunCsum]}`;
  if (d.tunType === "gre") return ` --tun-type gre ${CSUM_OPT[d.tunCsum]}`;
  return " --tun-type ipip";
}

function destRule(se: SvcEntry, d: DestEntry, svcName: string, numeric: boolean, names: NameDb): string {
  const dname = addrPort(d.af, d.addr, d.port, se.protocol, numeric, names);
  return `-a ${svcName} -r ${dname} ${FWD_SWITCH[d.forward]} -w ${d.weight}${tunnelRule(d)}\n`;
}

export function saveText(snap: Snapshot, numeric: boolean, names: NameDb): string {
  let out = "";
  for (const se of sortedServices(snap, false)) {
    const svcName = serviceName(se, true, numeric, names);
    out += serviceRule(se, svcName);
    for (const d of sortedDests(se, false)) out += destRule(se, d, svcName, numeric, names);
  }
  return out;
}
