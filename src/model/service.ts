import type { Scheduler } from "../sched/scheduler.ts";
import { table } from "../util/table.ts";
import { type Family, formatAddrPort, type IpAddr } from "./addr.ts";
import type { Dest } from "./dest.ts";
import { RateEstimator } from "./rate.ts";
import { Counters } from "./stats.ts";

export type Protocol = "tcp" | "udp" | "sctp";

/** IP_VS_SVC_F_* flag bits as the kernel reports them in flags_raw. */
export const SVC_F_PERSISTENT = 0x01;
export const SVC_F_HASHED = 0x02;
export const SVC_F_ONEPACKET = 0x04;
export const SVC_F_SCHED1 = 0x08;
export const SVC_F_SCHED2 = 0x10;
export const SVC_F_SCHED3 = 0x20;
export const SVC_F_SCHED_MASK = SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3;

/**
 * ipvsadm's names for the scheduler flag bits; sh/mh name the first two bits after themselves,
 * and those names are accepted only with that scheduler (`needs`).
 */
export const SCHED_FLAGS: Readonly<Record<string, { bit: number; needs?: string }>> = table({
  "flag-1": { bit: SVC_F_SCHED1 },
  "flag-2": { bit: SVC_F_SCHED2 },
  "flag-3": { bit: SVC_F_SCHED3 },
  "sh-fallback": { bit: SVC_F_SCHED1, needs: "sh" },
  "sh-port": { bit: SVC_F_SCHED2, needs: "sh" },
  "mh-fallback": { bit: SVC_F_SCHED1, needs: "mh" },
  "mh-port": { bit: SVC_F_SCHED2, needs: "mh" },
});

/** Name → bit, whatever the scheduler. */
export const SCHED_FLAG_BITS: Readonly<Record<string, number>> = table(
  Object.fromEntries(Object.entries(SCHED_FLAGS).map(([name, f]) => [name, f.bit])),
);

/** Flag bits of a list of names; null when a name is unknown. */
export function schedFlagsFromNames(names: readonly string[]): number | null {
  let f = 0;
  for (const n of names) {
    const bit = SCHED_FLAG_BITS[n];
    if (bit === undefined) return null;
    f |= bit;
  }
  return f;
}

/** The names ipvsadm prints for the set bits, as the scheduler `scheduler` names them. */
export function schedFlagNames(scheduler: string, flags: number): string[] {
  const names =
    scheduler === "sh"
      ? ["sh-fallback", "sh-port", "flag-3"]
      : scheduler === "mh"
        ? ["mh-fallback", "mh-port", "flag-3"]
        : ["flag-1", "flag-2", "flag-3"];
  return [SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3].flatMap((b, i) => (flags & b ? [names[i]] : []));
}

/** How a service is addressed: protocol + address + port, or a firewall mark. */
export type ServiceId =
  | { kind: "addr"; af: Family; protocol: Protocol; addr: IpAddr; port: number }
  | { kind: "fwmark"; af: Family; fwmark: number };

/** What `ipvsadm -A/-E` sets (all of it is replaced on -E). */
export interface ServiceConfig {
  scheduler: string;
  /** SVC_F_PERSISTENT | SVC_F_ONEPACKET | SVC_F_SCHED* bits. */
  flags: number;
  /** Persistence timeout in seconds (0 when not persistent). */
  timeout: number;
  /** IPv4: netmask as u32; IPv6: prefix length. */
  netmask: number;
  peName: string | null;
}

/** `tcp:ADDR:PORT`, `udp:…`, `sctp:…` or `fwm:MARK` (`fwm6:MARK` for IPv6 marks). */
export function serviceKey(id: ServiceId): string {
  if (id.kind === "fwmark") return `${id.af === "inet6" ? "fwm6" : "fwm"}:${id.fwmark >>> 0}`;
  return `${id.protocol}:${formatAddrPort(id.addr, id.port)}`;
}

export class Service implements ServiceConfig {
  readonly id: ServiceId;
  readonly key: string;
  scheduler: string;
  flags: number;
  timeout: number;
  netmask: number;
  peName: string | null;
  /** Kernel list order: newest destination first. */
  dests: Dest[] = [];
  /** The scheduler instance (null for `none`). */
  sched: Scheduler | null = null;
  readonly stats = new Counters();
  readonly est = new RateEstimator();

  constructor(id: ServiceId, cfg: ServiceConfig) {
    this.id = id;
    this.key = serviceKey(id);
    this.scheduler = cfg.scheduler;
    this.flags = cfg.flags;
    this.timeout = cfg.timeout;
    this.netmask = cfg.netmask;
    this.peName = cfg.peName;
  }

  get af(): Family {
    return this.id.af;
  }
  get fwmark(): number {
    return this.id.kind === "fwmark" ? this.id.fwmark : 0;
  }
  get port(): number {
    return this.id.kind === "addr" ? this.id.port : 0;
  }
  get protocol(): Protocol | null {
    return this.id.kind === "addr" ? this.id.protocol : null;
  }
  get persistent(): boolean {
    return (this.flags & SVC_F_PERSISTENT) !== 0;
  }
  get onePacket(): boolean {
    return (this.flags & SVC_F_ONEPACKET) !== 0;
  }
  get schedFlags(): number {
    return this.flags & SVC_F_SCHED_MASK;
  }

  findDest(addr: IpAddr, port: number): Dest | undefined {
    const key = formatAddrPort(addr, port);
    return this.dests.find((d) => d.key === key);
  }
}
