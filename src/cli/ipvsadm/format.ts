/**
 * -L / -l listings of services and real servers (list_all, list_service, print_title and
 * print_service_entry of ipvsadm 1.31) for every view: default, --stats, --rate, --thresholds,
 * --persistent-conn, --tun-info, with --exact, --nosort and -n.
 */
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED_MASK } from "../../model/service.ts";
import type { Snapshot } from "../../model/snapshot.ts";
import type { ListFormat } from "./command.ts";
import { type DestEntry, type SvcEntry, svcEntry } from "./entries.ts";
import { maskText, schedFlagsText, serviceName } from "./labels.ts";
import type { NameDb } from "./names.ts";
import { cmpDests, cmpServices, glibcMergeSort } from "./sort.ts";
import { addrPort, largenum, left, right } from "./text.ts";

type View = "stats" | "rate" | "thresholds" | "persistent-conn" | "tun-info" | "default";

/** Precedence when several view options are given (ipvsadm's if/else chain). */
export function viewOf(f: ListFormat): View {
  if (f.stats) return "stats";
  if (f.rate) return "rate";
  if (f.thresholds) return "thresholds";
  if (f.persistentConn) return "persistent-conn";
  if (f.tunInfo) return "tun-info";
  return "default";
}

const RS_TITLE = "  -> RemoteAddress:Port\n";
const PROT_TITLE = "Prot LocalAddress:Port";
const SCHED_TITLE = "Prot LocalAddress:Port Scheduler Flags\n";

export function titleText(view: View): string {
  switch (view) {
    case "stats":
      return `${left(PROT_TITLE, 33)} ${["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"].map((s) => right(s, 8)).join(" ")}\n${RS_TITLE}`;
    case "rate":
      return `${left(PROT_TITLE, 33)} ${["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"].map((s) => right(s, 8)).join(" ")}\n${RS_TITLE}`;
    case "thresholds":
      return `${left(PROT_TITLE, 33)} ${["Uthreshold", "Lthreshold", "ActiveConn", "InActConn"].map((s) => left(s, 10)).join(" ")}\n${RS_TITLE}`;
    case "persistent-conn":
      return `${left(PROT_TITLE, 33)} ${left("Weight", 9)} ${left("PersistConn", 11)} ${left("ActiveConn", 10)} ${left("InActConn", 10)}\n${RS_TITLE}`;
    case "tun-info":
      return `${SCHED_TITLE}  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n`;
    default:
      return `${SCHED_TITLE}  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n`;
  }
}

const FORWARD_NAME: Record<DestEntry["forward"], string> = {
  masq: "Masq",
  local: "Local",
  tunnel: "Tunnel",
  route: "Route",
};
const CSUM_SHORT: Record<DestEntry["tunCsum"], string> = { nocsum: "-c", csum: "+c", remcsum: "r+c" };

export function tunnelInfo(d: DestEntry): string {
  if (d.forward !== "tunnel") return "n/a";
  if (d.tunType === "gue") return `gue:${d.tunPort}:${CSUM_SHORT[d.tunCsum]}`;
  if (d.tunType === "gre") return `gre:${CSUM_SHORT[d.tunCsum]}`;
  return "ipip";
}

/** The service line of the default, thresholds, persistent-conn and tun-info views. */
function serviceLine(se: SvcEntry, name: string): string {
  let s = `${name} ${se.sched}`;
  if (se.flags & SVC_F_SCHED_MASK) s += ` (${schedFlagsText(se)})`;
  if (se.flags & SVC_F_PERSISTENT) {
    s += ` persistent ${se.timeout}`;
    const mask = maskText(se);
    if (mask) s += ` mask ${mask}`;
    if (se.peName) s += ` pe ${se.peName}`;
  }
  if (se.flags & SVC_F_ONEPACKET) s += " ops";
  return s;
}

function serviceText(se: SvcEntry, view: View, f: ListFormat, names: NameDb): string {
  const name = serviceName(se, false, f.numeric, names);
  if (view === "stats") {
    const st = se.stats;
    return (
      left(name, 33) +
      [st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes].map((v) => largenum(v, f.exact)).join("")
    );
  }
  if (view === "rate") {
    const r = se.rates;
    return (
      left(name, 33) + [r.cps, r.inpps, r.outpps, r.inbps, r.outbps].map((v) => largenum(v, f.exact)).join("")
    );
  }
  return serviceLine(se, name);
}

function destText(d: DestEntry, dname: string, view: View, exact: boolean): string {
  const lead = `  -> ${left(dname, 28)}`;
  switch (view) {
    case "stats": {
      const st = d.stats;
      return (
        lead +
        [st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes].map((v) => largenum(v, exact)).join("")
      );
    }
    case "rate": {
      // CPS/InPPS/OutPPS of real servers are never scaled (ipvsadm prints them with %8llu).
      const r = d.rates;
      return `${lead} ${right(r.cps, 8)} ${right(r.inpps, 8)} ${right(r.outpps, 8)}${largenum(r.inbps, exact)}${largenum(r.outbps, exact)}`;
    }
    case "thresholds":
      return `${lead} ${[d.uThreshold, d.lThreshold, d.activeConns, d.inactConns].map((v) => left(v, 10)).join(" ")}`;
    case "persistent-conn":
      return `${lead} ${left(d.weight, 9)} ${left(d.persistConns, 11)} ${left(d.activeConns, 10)} ${left(d.inactConns, 10)}`;
    case "tun-info":
      return `${lead} ${left(FORWARD_NAME[d.forward], 7)} ${left(tunnelInfo(d), 13)} ${left(d.weight, 6)} ${left(d.activeConns, 10)} ${left(d.inactConns, 10)}`;
    default:
      return `${lead} ${left(FORWARD_NAME[d.forward], 7)} ${left(d.weight, 6)} ${left(d.activeConns, 10)} ${left(d.inactConns, 10)}`;
  }
}

export function sortedDests(se: SvcEntry, nosort: boolean): DestEntry[] {
  return nosort ? se.dests : glibcMergeSort(se.dests, cmpDests);
}

/** Dest label: real servers use the service's protocol for port names; cut to 28 unless IPv6. */
export function destName(se: SvcEntry, d: DestEntry, numeric: boolean, names: NameDb): string {
  const s = addrPort(d.af, d.addr, d.port, se.protocol, numeric, names);
  return d.af === "inet6" ? s : s.slice(0, 28);
}

/** print_service_entry() for the non-save views. */
export function serviceEntryText(se: SvcEntry, f: ListFormat, names: NameDb): string {
  const view = viewOf(f);
  let out = `${serviceText(se, view, f, names)}\n`;
  for (const d of sortedDests(se, f.nosort))
    out += `${destText(d, destName(se, d, f.numeric, names), view, f.exact)}\n`;
  return out;
}

export function sortedServices(snap: Snapshot, nosort: boolean): SvcEntry[] {
  const entries = snap.services.map(svcEntry);
  return nosort ? entries : glibcMergeSort(entries, cmpServices);
}

export function versionLine(snap: Snapshot): string {
  const code = snap.ipvs_info.version_code;
  return `IP Virtual Server version ${(code >> 16) & 0xff}.${(code >> 8) & 0xff}.${code & 0xff} (size=${snap.ipvs_info.conn_tab_size})\n`;
}

/** list_all(): version line, title, then every service (sorted unless --nosort). */
export function listAll(snap: Snapshot, f: ListFormat, names: NameDb): string {
  let out = versionLine(snap) + titleText(viewOf(f));
  for (const se of sortedServices(snap, f.nosort)) out += serviceEntryText(se, f, names);
  return out;
}

/** list_service() once the service was found: title and that service, no version line. */
export function listOne(se: SvcEntry, f: ListFormat, names: NameDb): string {
  return titleText(viewOf(f)) + serviceEntryText(se, f, names);
}
