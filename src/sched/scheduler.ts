import type { Family, IpAddr } from "../model/addr.ts";
import type { Dest } from "../model/dest.ts";
import type { Protocol, Service } from "../model/service.ts";

/** What a scheduler may look at of the packet that opens a new connection. */
export interface SchedPacket {
  af: Family;
  /** Transport protocol of the packet (fwmark services carry TCP or UDP packets). */
  protocol: Protocol;
  saddr: IpAddr;
  sport: number;
  /** Packet destination (VIP, or any address under a fwmark service); dh/lblc/lblcr hash it. */
  daddr: IpAddr;
  dport: number;
}

/**
 * One scheduler instance is bound to one service (the kernel's svc->sched_data). The service's
 * `dests` array is in kernel list order (newest first); every scheduler scans it in that order
 * and breaks ties toward the earlier entry. `now` is milliseconds on the director's clock.
 */
export interface Scheduler {
  readonly name: string;
  schedule(svc: Service, pkt: SchedPacket, now: number): Dest | null;
  /** Called after `dest` was inserted at the front of svc.dests. */
  addDest?(svc: Service, dest: Dest): void;
  /** Called after `dest` was removed from svc.dests (dest.available already false). */
  delDest?(svc: Service, dest: Dest): void;
  /** Called after an edit of `dest` (weight/thresholds/method) with the new values in place. */
  updDest?(svc: Service, dest: Dest): void;
  /** Periodic work (lblc/lblcr cache expiry); called as time advances, at most once per tick. */
  tick?(svc: Service, now: number): void;
  /** Release state when the service is deleted or its scheduler replaced. */
  done?(svc: Service): void;
}

/** Creates the per-service state; dests already in svc.dests are the initial set. */
export type SchedulerFactory = (svc: Service, now: number) => Scheduler;
