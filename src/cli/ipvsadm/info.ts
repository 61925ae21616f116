/** --timeout and --daemon listings (list_timeout, list_daemon). */
import { parseIp } from "../../model/addr.ts";
import type { Snapshot } from "../../model/snapshot.ts";

export function timeoutText(snap: Snapshot): string {
  const t = snap.timeouts;
  return `Timeout (tcp tcpfin udp): ${t.tcp | 0} ${t.tcpfin | 0} ${t.udp | 0}\n`;
}

/** One line per running daemon (the kernel reports at most a master and a backup). */
export function daemonText(snap: Snapshot): string {
  let out = "";
  for (const d of snap.sync_daemons.slice(0, 2)) {
    let s = `${d.state} sync daemon (mcast=${d.mcast_ifn}, syncid=${d.syncid}`;
    if (d.sync_maxlen) s += `, maxlen=${d.sync_maxlen}`;
    // inet_ntop output: canonical text of the group address.
    if (d.mcast_group) s += `, group=${parseIp(d.mcast_group)?.text ?? d.mcast_group}`;
    if (d.mcast_port) s += `, port=${d.mcast_port}`;
    if (d.mcast_ttl) s += `, ttl=${d.mcast_ttl}`;
    out += `${s})\n`;
  }
  return out;
}
