/**
 * The sync backup: received entries go into a Director's connection table as the kernel's
 * ip_vs_proc_conn puts them: created or updated, flagged SYNC, bound to the matching local
 * destination when there is one (kept unbound otherwise), with the state and the timeout the
 * master sent, so `-Lnc` lists them and ActiveConn/InActConn count them.
 */
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from "../conntrack/states.ts";
import {
  CONN_F_FWD_MASK,
  CONN_F_INACTIVE,
  CONN_F_MASQ,
  CONN_F_SYNC,
  CONN_F_TEMPLATE,
} from "../conntrack/table.ts";
import { bindDest, expireEntry } from "../director/conn-ops.ts";
import type { Director } from "../director/director.ts";
import { sameAddr } from "../model/addr.ts";
import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import { CONN_F_BACKUP_MASK, CONN_F_BACKUP_UPD_MASK, type DecodedMessage, type SyncConn } from "./codec.ts";

/** Timeout of a template from a v0 message, which carries none (3 minutes). */
const V0_TEMPLATE_TIMEOUT_S = 180;

export type ApplyOutcome = "created" | "updated" | "replaced" | "ignored";

function protoName(p: number): "tcp" | "udp" | "sctp" | null {
  return p === IPPROTO_TCP ? "tcp" : p === IPPROTO_UDP ? "udp" : p === IPPROTO_SCTP ? "sctp" : null;
}

/** ip_vs_service_find: fwmark service, then (proto, vaddr, vport), then the port-0 service. */
function findService(d: Director, c: SyncConn): Service | undefined {
  if (c.fwmark) {
    const s = d.findService({ kind: "fwmark", af: c.af, fwmark: c.fwmark });
    if (s) return s;
  }
  const protocol = protoName(c.protocol);
  if (!protocol) return undefined;
  return (
    d.findService({ kind: "addr", af: c.af, protocol, addr: c.vaddr, port: c.vport }) ??
    d.findService({ kind: "addr", af: c.af, protocol, addr: c.vaddr, port: 0 })
  );
}

/**
 * ip_vs_find_dest: the dest by (daddr, dport) in the entry's service; for a firewall-mark
 * service not forwarding by NAT the dest port is not part of the match.
 */
export function findSyncDest(d: Director, c: SyncConn, flags: number): Dest | undefined {
  const svc = findService(d, c);
  if (!svc) return undefined;
  const port = c.fwmark && (flags & CONN_F_FWD_MASK) !== CONN_F_MASQ ? 0 : c.dport;
  return svc.findDest(c.daddr, port) ?? svc.findDest(c.daddr, port ^ c.dport);
}

/** The timeout an entry gets (ms): as sent (v1), else the state's, else 3 minutes for templates. */
function timeoutMs(d: Director, c: SyncConn, template: boolean): number {
  if (c.timeout) return c.timeout * 1000;
  if (!template) return d.timeouts.of(c.protocol, c.state) * 1000;
  return V0_TEMPLATE_TIMEOUT_S * 1000;
}

/** Move an existing entry between ActiveConn and InActConn when the master says it changed. */
function recount(dest: Dest, inactive: boolean): void {
  if (inactive) {
    dest.activeConns = Math.max(0, dest.activeConns - 1);
    dest.inactConns++;
  } else {
    dest.inactConns = Math.max(0, dest.inactConns - 1);
    dest.activeConns++;
  }
}

/**
 * ip_vs_proc_conn for one received entry. `version` 1 masks the flags to what a backup accepts
 * (IP_VS_CONN_F_BACKUP_MASK); the v0 decoder already added SYNC and dropped HASHED.
 */
export function applySyncConn(d: Director, c: SyncConn, version: 0 | 1 = 1): ApplyOutcome {
  const t = d.conns;
  let flags = (version === 1 ? c.flags & CONN_F_BACKUP_MASK : c.flags) | CONN_F_SYNC;
  const template = (flags & CONN_F_TEMPLATE) !== 0;
  let slot = t.lookup(c.protocol, c.caddr, c.cport, c.vaddr, c.vport, template);
  let outcome: ApplyOutcome = "updated";
  if (slot >= 0 && !template && (t.dport(slot) !== c.dport || !sameAddr(t.daddr(slot), c.daddr))) {
    // Same client, other real server: a newer entry replaced this one on the master.
    if (flags & CONN_F_INACTIVE) return "ignored"; // the old entry's expiry news, already replaced
    expireEntry(d, slot);
    slot = -1;
    outcome = "replaced";
  }
  if (slot >= 0) {
    const old = t.flags(slot);
    const dest = t.dest(slot);
    if ((old ^ flags) & CONN_F_INACTIVE && !template && dest) recount(dest, (flags & CONN_F_INACTIVE) !== 0);
    flags = (flags & CONN_F_BACKUP_UPD_MASK) | (old & ~CONN_F_BACKUP_UPD_MASK);
    t.setFlags(slot, flags);
    if (!dest) {
      const found = findSyncDest(d, c, flags);
      if (found) bindDest(d, slot, found);
    }
  } else {
    if (outcome !== "replaced") outcome = "created";
    slot = t.insert({
      proto: c.protocol,
      caddr: c.caddr,
      cport: c.cport,
      vaddr: c.vaddr,
      vport: c.vport,
      daddr: c.daddr,
      dport: c.dport,
      flags,
      state: 0,
      dest: null,
      fwmark: c.fwmark,
    });
    const dest = findSyncDest(d, c, flags);
    if (dest) bindDest(d, slot, dest);
    if (template && c.peData && c.peName) t.setPe(slot, c.peName, new TextDecoder().decode(c.peData));
  }
  // The state as sent; the activity count already follows the INACTIVE flag the master sent.
  t.setState(slot, c.state);
  const ms = timeoutMs(d, c, template);
  t.setTimeout(slot, ms);
  t.arm(slot, ms, d.now);
  d.hooks.synced?.(slot);
  return outcome;
}

export interface BackupStats {
  messages: number;
  conns: number;
  refused: number;
  skipped: number;
}

/** Apply every entry of a decoded message; counts go to `stats`. */
export function applyMessage(d: Director, msg: DecodedMessage, stats: BackupStats): void {
  stats.messages++;
  stats.skipped += msg.skipped.length;
  for (const c of msg.conns) {
    applySyncConn(d, c, msg.version);
    stats.conns++;
  }
}
