/**
 * Connections through the director: scheduling a new one (with persistence templates), binding it
 * to its destination with the kernel's ActiveConn/InActConn and overload rules, state changes, and
 * expiry (ip_vs_core.c ip_vs_schedule / ip_vs_sched_persist, ip_vs_conn.c).
 */

import {
  Dir,
  IPPROTO_IP,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SCTP_ESTABLISHED,
  Tcp,
  TcpEvent,
  tcpNextState,
  tcpStateActive,
} from "../conntrack/states.ts";
import {
  CONN_F_DROUTE,
  CONN_F_FWD_MASK,
  CONN_F_INACTIVE,
  CONN_F_LOCALNODE,
  CONN_F_MASQ,
  CONN_F_NOOUTPUT,
  CONN_F_ONE_PACKET,
  CONN_F_SYNC,
  CONN_F_TEMPLATE,
  CONN_F_TUNNEL,
} from "../conntrack/table.ts";
import { type IpAddr, ipv4FromU32, ipv6FromWords, maskAddr } from "../model/addr.ts";
import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import type { SchedPacket } from "../sched/scheduler.ts";
import type { Director } from "./director.ts";

const FTPPORT = 21;
/** ip_vs_conn_expire: a template that still controls connections is retried this much later. */
const EXPIRE_LATER_MS = 60_000;

/** A new flow as a data plane (or `uvs simulate`) presents it. */
export interface NewFlow {
  proto: number;
  caddr: IpAddr;
  cport: number;
  /** Packet destination: the VIP, or any address a firewall mark groups. */
  vaddr: IpAddr;
  vport: number;
}

export function schedProto(p: number): "tcp" | "udp" | "sctp" {
  return p === IPPROTO_UDP ? "udp" : p === IPPROTO_SCTP ? "sctp" : "tcp";
}

/** The dest's conn_flags: forwarding method, INACTIVE, NOOUTPUT unless NAT (__ip_vs_update_dest). */
function destConnFlags(dest: Dest): number {
  const fwd =
    dest.forward === "masq"
      ? CONN_F_MASQ
      : dest.forward === "tunnel"
        ? CONN_F_TUNNEL
        : dest.forward === "local"
          ? CONN_F_LOCALNODE
          : CONN_F_DROUTE;
  return fwd | CONN_F_INACTIVE | (fwd === CONN_F_MASQ ? 0 : CONN_F_NOOUTPUT);
}

/**
 * ip_vs_bind_dest: count the entry on its dest, then the upper-threshold rule. An entry made by
 * the sync backup keeps its activity flag and takes its forwarding method from the dest.
 */
export function bindDest(d: Director, slot: number, dest: Dest): void {
  const t = d.conns;
  let f = t.flags(slot);
  let cf = destConnFlags(dest);
  if (f & CONN_F_SYNC) {
    if (!(f & CONN_F_TEMPLATE)) cf &= ~CONN_F_INACTIVE;
    f &= ~(CONN_F_FWD_MASK | CONN_F_NOOUTPUT);
  }
  f |= cf;
  t.setFlags(slot, t.protoOf(slot) === IPPROTO_UDP ? f : f & ~CONN_F_ONE_PACKET);
  t.setDest(slot, dest);
  dest.refs++;
  if (f & CONN_F_TEMPLATE) dest.persistConns++;
  else if (f & CONN_F_INACTIVE) dest.inactConns++;
  else dest.activeConns++;
  if (dest.uThreshold !== 0 && dest.totalConns() >= dest.uThreshold >>> 0) dest.overloaded = true;
}

/** ip_vs_unbind_dest: uncount, then the lower/upper threshold rules clear the overload flag. */
function unbindDest(d: Director, slot: number): void {
  const t = d.conns;
  const dest = t.dest(slot);
  if (!dest) return;
  const f = t.flags(slot);
  if (f & CONN_F_TEMPLATE) dest.persistConns = Math.max(0, dest.persistConns - 1);
  else if (f & CONN_F_INACTIVE) dest.inactConns = Math.max(0, dest.inactConns - 1);
  else dest.activeConns = Math.max(0, dest.activeConns - 1);
  const total = dest.totalConns();
  if (dest.lThreshold !== 0) {
    if (total < dest.lThreshold >>> 0) dest.overloaded = false;
  } else if (dest.uThreshold !== 0) {
    if (total * 4 < (dest.uThreshold >>> 0) * 3) dest.overloaded = false;
  } else {
    dest.overloaded = false;
  }
  dest.refs--;
  if (dest.refs === 0 && !dest.available) dest.deletedAt = d.now;
  t.setDest(slot, null);
}

function newEntry(
  d: Director,
  proto: number,
  caddr: IpAddr,
  cport: number,
  vaddr: IpAddr,
  vport: number,
  dest: Dest,
  dport: number,
  flags: number,
  fwmark: number,
): number {
  const slot = d.conns.insert({
    proto,
    caddr,
    cport,
    vaddr,
    vport,
    daddr: dest.addr,
    dport,
    flags,
    state: 0,
    dest: null,
    fwmark,
  });
  bindDest(d, slot, dest);
  return slot;
}

/** Move an entry between ActiveConn and InActConn as its protocol state says. */
export function setState(d: Director, slot: number, state: number): void {
  const t = d.conns;
  const proto = t.protoOf(slot);
  const old = t.state(slot);
  t.setState(slot, state);
  if (old === state) return;
  const active =
    proto === IPPROTO_TCP
      ? tcpStateActive(state)
      : proto === IPPROTO_SCTP
        ? state === SCTP_ESTABLISHED
        : false;
  const dest = t.dest(slot);
  const f = t.flags(slot);
  if (!dest || f & CONN_F_TEMPLATE) return;
  if (!(f & CONN_F_INACTIVE) && !active) {
    dest.activeConns--;
    dest.inactConns++;
    t.setFlags(slot, f | CONN_F_INACTIVE);
  } else if (f & CONN_F_INACTIVE && active) {
    dest.inactConns--;
    dest.activeConns++;
    t.setFlags(slot, f & ~CONN_F_INACTIVE);
  }
}

/** State after the packet that created the entry: TCP SYN → SYN_RECV, SCTP INIT → INIT1, UDP. */
function firstState(proto: number): number {
  if (proto === IPPROTO_TCP) return Tcp.SYN_RECV;
  if (proto === IPPROTO_SCTP) return 1;
  return 0;
}

export function armForState(d: Director, slot: number): void {
  const t = d.conns;
  if (t.flags(slot) & CONN_F_TEMPLATE) return;
  t.arm(slot, d.timeouts.of(t.protoOf(slot), t.state(slot)) * 1000, d.now);
}

function schedPacket(svc: Service, f: NewFlow): SchedPacket {
  return {
    af: svc.af,
    protocol: schedProto(f.proto),
    saddr: f.caddr,
    sport: f.cport,
    daddr: f.vaddr,
    dport: f.vport,
  };
}

/** ip_vs_check_template: a template whose dest went away (or is quiescent, by sysctl) is invalidated. */
function templateUsable(d: Director, ct: number): boolean {
  const dest = d.conns.dest(ct);
  if (dest?.available && !(d.opts.expireQuiescentTemplate && dest.weight === 0)) return true;
  if (d.conns.vport(ct) !== 0xffff) d.conns.rekey(ct, 0, 0xffff, 0xffff);
  return false;
}

/** Template key of a flow under a persistent service (ip_vs_sched_persist). */
function templateKey(
  svc: Service,
  f: NewFlow,
): { proto: number; snet: IpAddr; vaddr: IpAddr; vport: number } {
  const snet = maskAddr(f.caddr, svc.netmask);
  if (f.vport === svc.port)
    return { proto: f.proto, snet, vaddr: f.vaddr, vport: svc.port !== FTPPORT ? f.vport : 0 };
  if (svc.fwmark) {
    const markAddr = svc.af === "inet" ? ipv4FromU32(svc.fwmark) : ipv6FromWords([svc.fwmark, 0, 0, 0]);
    return { proto: IPPROTO_IP, snet, vaddr: markAddr, vport: 0 };
  }
  return { proto: f.proto, snet, vaddr: f.vaddr, vport: 0 };
}

function schedulePersistent(d: Director, svc: Service, f: NewFlow): number {
  const key = templateKey(svc, f);
  const t = d.conns;
  let ct = t.lookup(key.proto, key.snet, 0, key.vaddr, key.vport, true);
  let dest: Dest;
  if (ct < 0 || !templateUsable(d, ct)) {
    const picked = svc.sched?.schedule(svc, schedPacket(svc, f), d.now) ?? null;
    if (!picked) return -1;
    dest = picked;
    const dport = f.vport === svc.port && svc.port !== FTPPORT ? dest.port : 0;
    ct = newEntry(d, key.proto, key.snet, 0, key.vaddr, key.vport, dest, dport, CONN_F_TEMPLATE, svc.fwmark);
    t.setTimeout(ct, svc.timeout * 1000);
  } else {
    dest = t.dest(ct)!;
  }
  const dport = f.vport === svc.port && dest.port ? dest.port : f.vport;
  const flags = svc.onePacket && f.proto === IPPROTO_UDP ? CONN_F_ONE_PACKET : 0;
  const cp = newEntry(d, f.proto, f.caddr, f.cport, f.vaddr, f.vport, dest, dport, flags, svc.fwmark);
  t.setControl(cp, ct);
  t.addControlled(ct, 1);
  // ip_vs_conn_put(ct): every new connection re-arms the template with its own timeout.
  t.arm(ct, t.timeout(ct), d.now);
  return cp;
}

/**
 * Schedule a new flow on `svc` and create its entry (state after its first packet, timer armed,
 * counted in Conns). Returns the entry's slot, or -1 when no destination is available.
 * A one-packet entry (-o, UDP) is removed at once, unless `keepOnePacket`: then the data plane
 * reads it, forwards its packet and calls `endOnePacket` (as the kernel frees it after transmit).
 */
export function connect(d: Director, svc: Service, f: NewFlow, keepOnePacket = false): number {
  let slot: number;
  if (svc.persistent) {
    slot = schedulePersistent(d, svc, f);
  } else {
    if (!svc.fwmark && f.vport !== svc.port) return -1; // port 0 needs persistence
    const dest = svc.sched?.schedule(svc, schedPacket(svc, f), d.now) ?? null;
    if (!dest) return -1;
    const flags = svc.onePacket && f.proto === IPPROTO_UDP ? CONN_F_ONE_PACKET : 0;
    slot = newEntry(
      d,
      f.proto,
      f.caddr,
      f.cport,
      f.vaddr,
      f.vport,
      dest,
      dest.port || f.vport,
      flags,
      svc.fwmark,
    );
  }
  const dest = d.conns.dest(slot)!;
  svc.stats.conns++;
  dest.stats.conns++;
  setState(d, slot, firstState(f.proto));
  if (d.conns.flags(slot) & CONN_F_ONE_PACKET) {
    d.hooks.inPacket?.(slot);
    // One-packet entries are gone right after their packet.
    if (!keepOnePacket) removeEntry(d, slot);
    return slot;
  }
  armForState(d, slot);
  d.hooks.inPacket?.(slot);
  return slot;
}

/** Remove a one-packet entry that `connect(…, true)` kept for its packet. */
export function endOnePacket(d: Director, slot: number): void {
  if (d.conns.isLive(slot) && d.conns.flags(slot) & CONN_F_ONE_PACKET) removeEntry(d, slot);
}

/** A TCP close seen from the client side (FIN): the entry leaves the active states. */
export function closeConn(d: Director, slot: number): void {
  const t = d.conns;
  if (!t.isLive(slot) || t.protoOf(slot) !== IPPROTO_TCP || t.flags(slot) & CONN_F_TEMPLATE) return;
  const dir = t.flags(slot) & CONN_F_NOOUTPUT ? Dir.INPUT_ONLY : Dir.INPUT;
  setState(d, slot, tcpNextState(dir, TcpEvent.FIN, t.state(slot)));
  armForState(d, slot);
}

/** Take an entry out: its template loses a controlled connection, its dest is uncounted. */
function removeEntry(d: Director, slot: number): void {
  const t = d.conns;
  const ct = t.control(slot);
  if (ct >= 0 && t.isLive(ct)) t.addControlled(ct, -1);
  t.setControl(slot, -1);
  unbindDest(d, slot);
  t.remove(slot);
}

/** ip_vs_conn_expire for one entry whose timer ran out (or that is expired on purpose). */
export function expireEntry(d: Director, slot: number): void {
  const t = d.conns;
  if (!t.isLive(slot)) return;
  if (t.nControl(slot) > 0) {
    t.setTimeout(slot, EXPIRE_LATER_MS);
    t.arm(slot, EXPIRE_LATER_MS, d.now);
    return;
  }
  d.hooks.expired?.(slot, t.serialOf(slot));
  removeEntry(d, slot);
}

/** Expire every entry whose timer is due at `now`, in expiry order. */
export function expireDue(d: Director, now: number): void {
  for (let slot = d.conns.popDue(now); slot >= 0; slot = d.conns.popDue(now)) expireEntry(d, slot);
}

/** Give every scheduler with a timer (lblc, lblcr) the time. */
export function runSchedulerTicks(d: Director, now: number): void {
  for (const svc of d.services.values()) svc.sched?.tick?.(svc, now);
}

/** Flags a snapshot-loaded entry gets: forwarding bits from its dest, INACTIVE unless active. */
export function loadedFlags(dest: Dest | null, proto: number, state: number, template: boolean): number {
  let f = dest ? destConnFlags(dest) & (CONN_F_FWD_MASK | CONN_F_NOOUTPUT) : CONN_F_DROUTE;
  if (template) return f | CONN_F_TEMPLATE;
  const active =
    proto === IPPROTO_TCP ? tcpStateActive(state) : proto === IPPROTO_SCTP && state === SCTP_ESTABLISHED;
  if (!active) f |= CONN_F_INACTIVE;
  return f;
}

export { templateKey };
