/**
 * Between the director and the `uvs-state/1` snapshot. Loading replays what the kernel did to get
 * there (service created, destinations added oldest first, so schedulers start as they would have)
 * and then restores counts, counters, rates and connection entries exactly.
 */

import { protoName, protoNumber, stateNames, TEMPLATE_STATE_NAMES } from "../conntrack/states.ts";
import { CONN_F_TEMPLATE } from "../conntrack/table.ts";
import { formatMask, type IpAddr, ipv4FromU32, parseIp, parseIpv4Strict } from "../model/addr.ts";
import { Dest } from "../model/dest.ts";
import { RateEstimator } from "../model/rate.ts";
import {
  Service,
  type ServiceId,
  SVC_F_HASHED,
  SVC_F_ONEPACKET,
  SVC_F_PERSISTENT,
  SVC_F_SCHED_MASK,
  schedFlagNames,
  schedFlagsFromNames,
} from "../model/service.ts";
import {
  SNAPSHOT_SCHEMA,
  type SnapConn,
  type SnapDest,
  type SnapService,
  type Snapshot,
} from "../model/snapshot.ts";
import { createScheduler } from "../sched/registry.ts";
import { loadedFlags, templateKey } from "./conn-ops.ts";
import { Director, type DirectorOptions } from "./director.ts";

function ip(text: string): IpAddr {
  return parseIp(text)!; // validated by parseSnapshot
}

export function serviceIdOf(s: SnapService): ServiceId {
  if (s.fwmark !== null) return { kind: "fwmark", af: s.af, fwmark: s.fwmark };
  return { kind: "addr", af: s.af, protocol: s.protocol!, addr: ip(s.address!), port: s.port! };
}

function loadService(d: Director, s: SnapService): Service {
  let flags = (s.persistent ? SVC_F_PERSISTENT : 0) | (s.one_packet ? SVC_F_ONEPACKET : 0);
  flags |= schedFlagsFromNames(s.sched_flags) ?? 0;
  const netmask = s.af === "inet" ? parseIpv4Strict(s.netmask as string)! : (s.netmask as number);
  const svc = new Service(serviceIdOf(s), {
    scheduler: s.scheduler,
    flags,
    timeout: s.persistence_timeout,
    netmask,
    peName: s.pe_name,
  });
  svc.sched = s.scheduler === "none" ? null : createScheduler(s.scheduler, svc, d.now, d.opts);
  // Replay the adds oldest first: the snapshot lists the newest first, as the kernel does.
  for (const sd of [...s.destinations].reverse()) {
    const dest = new Dest(
      {
        af: sd.af,
        addr: ip(sd.address),
        port: sd.port,
        forward: sd.forward,
        weight: sd.weight,
        uThreshold: sd.u_threshold,
        lThreshold: sd.l_threshold,
        tunnelType: sd.tunnel_type,
        tunnelPort: sd.tunnel_port,
        tunnelCsum: sd.tunnel_csum,
      },
      new RateEstimator(),
    );
    dest.svc = svc;
    svc.dests.unshift(dest);
    svc.sched?.addDest?.(svc, dest);
    restoreDest(dest, sd);
  }
  svc.stats.load(s.stats);
  svc.est.load(s.rates, s.stats);
  return svc;
}

function restoreDest(dest: Dest, sd: SnapDest): void {
  dest.activeConns = sd.active_conns;
  dest.inactConns = sd.inactive_conns;
  dest.persistConns = sd.persistent_conns;
  dest.overloaded = dest.uThreshold !== 0 && dest.totalConns() >= dest.uThreshold;
  dest.stats.load(sd.stats);
  dest.est.load(sd.rates, sd.stats);
}

/** The service an entry belongs to and its dest there, if the table still has them. */
function bindingOf(d: Director, c: SnapConn, proto: number, template: boolean) {
  const daddr = ip(c.dest_address);
  for (const svc of d.services.values()) {
    const dest = svc.findDest(daddr, c.dest_port) ?? svc.dests.find((x) => x.addr.text === daddr.text);
    if (!dest) continue;
    if (svc.id.kind === "fwmark") {
      if (proto === 0 && c.virtual_address === ipv4FromU32(svc.fwmark).text) return { svc, dest };
      continue;
    }
    const sameVip = svc.id.addr.text === c.virtual_address;
    const portOk = svc.port === c.virtual_port || svc.port === 0 || (template && c.virtual_port === 0);
    if (sameVip && portOk && protoName(proto) === svc.id.protocol.toUpperCase()) return { svc, dest };
  }
  return null;
}

function loadConn(d: Director, c: SnapConn): void {
  const proto = protoNumber(c.protocol) ?? 0;
  const template = c.template || proto === 0;
  const names = template ? TEMPLATE_STATE_NAMES : stateNames(proto);
  const stateIdx = names.indexOf(c.state);
  const bound = bindingOf(d, c, proto, template);
  const t = d.conns;
  const slot = t.insert({
    proto,
    caddr: ip(c.client_address),
    cport: c.client_port,
    vaddr: ip(c.virtual_address),
    vport: c.virtual_port,
    daddr: ip(c.dest_address),
    dport: c.dest_port,
    flags: loadedFlags(bound?.dest ?? null, proto, Math.max(0, stateIdx), template),
    state: Math.max(0, stateIdx),
    // Counts come from the snapshot's per-dest numbers; entries only keep the reference.
    dest: bound?.dest ?? null,
    fwmark: bound?.svc.fwmark ?? 0,
  });
  if (bound) bound.dest.refs++;
  if (stateIdx < 0) t.setCustomState(slot, c.state);
  if (c.pe_name && c.pe_data) t.setPe(slot, c.pe_name, c.pe_data);
  t.setTimeout(slot, template && bound ? bound.svc.timeout * 1000 : c.expires * 1000);
  t.arm(slot, c.expires * 1000, d.now);
}

/** Re-link loaded connections to the persistence templates that control them. */
function linkTemplates(d: Director): void {
  const t = d.conns;
  for (const slot of t.slots()) {
    if (t.flags(slot) & CONN_F_TEMPLATE) continue;
    const svc = t.dest(slot)?.svc;
    if (!svc?.persistent) continue;
    const key = templateKey(svc, {
      proto: t.protoOf(slot),
      caddr: t.caddr(slot),
      cport: t.cport(slot),
      vaddr: t.vaddr(slot),
      vport: t.vport(slot),
    });
    const ct = t.lookup(key.proto, key.snet, 0, key.vaddr, key.vport, true);
    if (ct >= 0) {
      t.setControl(slot, ct);
      t.addControlled(ct, 1);
    }
  }
}

const KNOWN_KEYS = new Set(["schema", "ipvs_info", "timeouts", "sync_daemons", "services", "connections"]);

/** Build a director holding exactly the state of `snap` (clock at `now`). */
export function directorFromSnapshot(snap: Snapshot, opts: DirectorOptions = {}, now = 0): Director {
  const d = new Director({ ...opts, connTabSize: snap.ipvs_info.conn_tab_size }, now);
  d.info.version = snap.ipvs_info.version;
  d.timeouts.set(snap.timeouts.tcp, snap.timeouts.tcpfin, snap.timeouts.udp);
  for (const sd of snap.sync_daemons) {
    d.syncDaemons.push({
      state: sd.state,
      mcastIfn: sd.mcast_ifn,
      syncid: sd.syncid,
      maxlen: sd.sync_maxlen,
      group: sd.mcast_group ? (parseIp(sd.mcast_group) ?? undefined) : undefined,
      port: sd.mcast_port,
      ttl: sd.mcast_ttl,
    });
  }
  for (const s of snap.services) {
    const svc = loadService(d, s);
    d.services.set(svc.key, svc);
  }
  for (const c of snap.connections) loadConn(d, c);
  linkTemplates(d);
  d.extras = Object.fromEntries(Object.entries(snap).filter(([k]) => !KNOWN_KEYS.has(k)));
  return d;
}

function snapDest(dest: Dest): SnapDest {
  return {
    af: dest.af,
    address: dest.addr.text,
    port: dest.port,
    forward: dest.forward,
    weight: dest.weight,
    u_threshold: dest.uThreshold,
    l_threshold: dest.lThreshold,
    active_conns: dest.activeConns,
    inactive_conns: dest.inactConns,
    persistent_conns: dest.persistConns,
    tunnel_type: dest.tunnelType,
    tunnel_port: dest.tunnelPort,
    tunnel_csum: dest.tunnelCsum,
    stats: dest.stats.read(),
    rates: dest.est.read(),
  };
}

function snapService(svc: Service): SnapService {
  const id = svc.id;
  return {
    af: svc.af,
    protocol: id.kind === "addr" ? id.protocol : null,
    address: id.kind === "addr" ? id.addr.text : null,
    port: id.kind === "addr" ? id.port : null,
    fwmark: id.kind === "fwmark" ? id.fwmark : null,
    scheduler: svc.scheduler,
    sched_flags: schedFlagNames(svc.scheduler, svc.flags & SVC_F_SCHED_MASK),
    persistent: svc.persistent,
    persistence_timeout: svc.persistent ? svc.timeout : 0,
    netmask: svc.af === "inet" ? formatMask(svc.netmask) : svc.netmask,
    one_packet: svc.onePacket,
    pe_name: svc.peName,
    flags_raw: svc.flags | SVC_F_HASHED,
    stats: svc.stats.read(),
    rates: svc.est.read(),
    destinations: svc.dests.map(snapDest),
  };
}

function snapConns(d: Director): SnapConn[] {
  const t = d.conns;
  const out: SnapConn[] = [];
  for (const slot of t.slots()) {
    const proto = t.protoOf(slot);
    const template = (t.flags(slot) & CONN_F_TEMPLATE) !== 0;
    const names = template ? TEMPLATE_STATE_NAMES : stateNames(proto);
    const caddr = t.caddr(slot);
    const daddr = t.daddr(slot);
    const left = t.expires(slot) - d.now;
    const pe = t.pe(slot);
    out.push({
      protocol: protoName(proto),
      af: caddr.af,
      client_address: caddr.text,
      client_port: t.cport(slot),
      virtual_address: t.vaddr(slot).text,
      virtual_port: t.vport(slot),
      dest_af: daddr.af,
      dest_address: daddr.text,
      dest_port: t.dport(slot),
      state: t.customStateName(slot) ?? names[t.state(slot)] ?? "ERR!",
      // /proc prints the remaining time truncated to seconds, never negative.
      expires: Number.isFinite(left) ? Math.max(0, Math.floor(left / 1000)) : 0,
      pe_name: pe?.name ?? null,
      pe_data: pe?.data ?? null,
      template,
    });
  }
  return out;
}

/**
 * The whole state as a `uvs-state/1` snapshot. `connections: false` leaves the connection entries
 * out (a client that shows only the tables need not fetch and parse 100,000 of them).
 */
export function directorToSnapshot(d: Director, opts: { connections?: boolean } = {}): Snapshot {
  const [ma, mi, pa] = d.info.version.split(".").map(Number);
  return {
    ...d.extras,
    schema: SNAPSHOT_SCHEMA,
    ipvs_info: {
      version: d.info.version,
      version_code: (ma << 16) | (mi << 8) | pa,
      conn_tab_size: d.info.connTabSize,
    },
    timeouts: d.timeouts.triple,
    sync_daemons: d.syncDaemons.map((x) => ({
      state: x.state,
      mcast_ifn: x.mcastIfn,
      syncid: x.syncid,
      sync_maxlen: x.maxlen ?? (x.group?.af === "inet6" ? 1500 - 48 : 1500 - 28),
      mcast_group: x.group?.text ?? "224.0.0.81",
      mcast_port: x.port ?? 8848,
      mcast_ttl: x.ttl ?? 1,
    })),
    services: [...d.services.values()].map(snapService),
    connections: opts.connections === false ? [] : snapConns(d),
  };
}
