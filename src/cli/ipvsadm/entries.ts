/**
 * Snapshot services/destinations as ipvsadm receives them from libipvs (ipvs_service_entry /
 * ipvs_dest_entry): protocol numbers, flag words, host-order address words, and real-server
 * counters cut to 32 bits because ipvsadm 1.31 reads the 64-bit dest stats with its 32-bit reader.
 */
import { type Family, type IpAddr, parseIp } from "../../model/addr.ts";
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT, schedFlagsFromNames } from "../../model/service.ts";
import type { SnapDest, SnapService } from "../../model/snapshot.ts";
import type { RateValues, StatsValues } from "../../model/stats.ts";
import { table } from "../../util/table.ts";
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from "./hostport.ts";

export interface SvcEntry {
  af: Family;
  /** 0 for firewall-mark services (the kernel reports none) */
  protocol: number;
  /** null for firewall-mark services (the kernel reports zeros) */
  addr: IpAddr | null;
  port: number;
  fwmark: number;
  sched: string;
  flags: number;
  timeout: number;
  /** IPv4: dotted mask text; IPv6: prefix length */
  netmask: string | number;
  peName: string;
  stats: StatsValues;
  rates: RateValues;
  dests: DestEntry[];
}

export interface DestEntry {
  af: Family;
  addr: IpAddr;
  port: number;
  forward: SnapDest["forward"];
  weight: number;
  uThreshold: number;
  lThreshold: number;
  activeConns: number;
  inactConns: number;
  persistConns: number;
  tunType: SnapDest["tunnel_type"];
  tunPort: number;
  tunCsum: SnapDest["tunnel_csum"];
  stats: StatsValues;
  rates: RateValues;
}

const PROTO_NUM: Record<string, number> = table({ tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP });

function ip(text: string): IpAddr {
  const a = parseIp(text);
  if (!a) throw new Error(`bad address ${text}`);
  return a;
}

const low32 = (v: bigint) => BigInt.asUintN(32, v);

function destEntry(d: SnapDest): DestEntry {
  const s = d.stats;
  const r = d.rates;
  return {
    af: d.af,
    addr: ip(d.address),
    port: d.port,
    forward: d.forward,
    weight: d.weight,
    uThreshold: d.u_threshold,
    lThreshold: d.l_threshold,
    activeConns: d.active_conns,
    inactConns: d.inactive_conns,
    persistConns: d.persistent_conns,
    tunType: d.tunnel_type,
    tunPort: d.tunnel_port,
    tunCsum: d.tunnel_csum,
    stats: {
      conns: low32(s.conns),
      inpkts: low32(s.inpkts),
      outpkts: low32(s.outpkts),
      inbytes: s.inbytes,
      outbytes: s.outbytes,
    },
    rates: {
      cps: low32(r.cps),
      inpps: low32(r.inpps),
      outpps: low32(r.outpps),
      inbps: low32(r.inbps),
      outbps: low32(r.outbps),
    },
  };
}

/** The flag word: flags_raw plus whatever the named fields say (either source may be set). */
function serviceFlags(s: SnapService): number {
  let flags = s.flags_raw;
  if (s.persistent) flags |= SVC_F_PERSISTENT;
  if (s.one_packet) flags |= SVC_F_ONEPACKET;
  flags |= schedFlagsFromNames(s.sched_flags) ?? 0;
  return flags;
}

export function svcEntry(s: SnapService): SvcEntry {
  const fwmark = s.fwmark ?? 0;
  return {
    af: s.af,
    protocol: fwmark ? 0 : (PROTO_NUM[s.protocol ?? ""] ?? 0),
    addr: fwmark || s.address === null ? null : ip(s.address),
    port: fwmark ? 0 : (s.port ?? 0),
    fwmark,
    sched: s.scheduler,
    flags: serviceFlags(s),
    timeout: s.persistence_timeout,
    netmask: s.netmask,
    peName: s.pe_name ?? "",
    stats: s.stats,
    rates: s.rates,
    dests: s.destinations.map(destEntry),
  };
}
