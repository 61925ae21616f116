/**
 * The director core: virtual services with their destinations in kernel list order, the
 * schedulers, persistence templates, the connection table with per-state timeouts, counters and
 * the rate estimator. Pure: no I/O, the clock is passed in (milliseconds).
 */

import { Timeouts } from "../conntrack/states.ts";
import { ConnTable } from "../conntrack/table.ts";
import type { Dest } from "../model/dest.ts";
import { EST_INTERVAL_MS } from "../model/rate.ts";
import { type Service, type ServiceId, serviceKey } from "../model/service.ts";
import type { DirectorOp, OpResult, SyncDaemonConfig } from "./api.ts";
import {
  addDest,
  addService,
  deleteDest,
  deleteService,
  editDest,
  editService,
  flush,
  zero,
} from "./config-ops.ts";
import { expireDue, runSchedulerTicks } from "./conn-ops.ts";

export interface DirectorOptions {
  /** Randomness for `twos` (a u32 source); seeded for reproducible simulations. */
  random?: () => number;
  /** sysctl lblc_expiration / lblcr_expiration in seconds (default 86400). */
  lblcExpiration?: number;
  lblcrExpiration?: number;
  /** sysctl expire_quiescent_template (default 0). */
  expireQuiescentTemplate?: boolean;
  /** Connection hash table size reported as `size=` (2^conn_tab_bits, default 4096). */
  connTabSize?: number;
}

/** Callbacks from the core to whoever carries the traffic. */
export interface DirectorHooks {
  /** An entry's timer ran out (or it was expired on purpose): the data plane closes that flow. */
  expired?(slot: number, serial: number): void;
  /**
   * An incoming packet (client → real server) of this entry was handled, after its state change
   * and timer re-arm: what the sync master counts (ip_vs_in → ip_vs_sync_conn). A data plane
   * that drives states itself calls it too.
   */
  inPacket?(slot: number): void;
  /**
   * The sync backup created or updated this entry (ip_vs_proc_conn): a packet plane indexes what
   * it needs that its own frames would have set up (the NAT reply key).
   */
  synced?(slot: number): void;
}

export interface IpvsInfo {
  version: string;
  connTabSize: number;
}

/** Deleted destinations are freed this long after their last connection went (IP_VS_DEST_TRASH_PERIOD). */
export const DEST_TRASH_MS = 60_000;

export class Director {
  /** Services in creation order (what --nosort shows here; the kernel's hash order is random). */
  readonly services = new Map<string, Service>();
  readonly conns = new ConnTable();
  readonly timeouts = new Timeouts();
  readonly syncDaemons: SyncDaemonConfig[] = [];
  readonly info: IpvsInfo;
  /** Deleted dests kept while connections still reference them; re-adding revives them. */
  readonly trash = new Set<Dest>();
  readonly opts: Required<Pick<DirectorOptions, "expireQuiescentTemplate">> & DirectorOptions;
  now = 0;
  hooks: DirectorHooks = {};
  /** Snapshot fields this director does not interpret, carried from load to save. */
  extras: Record<string, unknown> = {};
  private nextEstimate = EST_INTERVAL_MS;

  constructor(opts: DirectorOptions = {}, now = 0) {
    this.opts = { expireQuiescentTemplate: false, ...opts };
    this.info = { version: "1.2.1", connTabSize: opts.connTabSize ?? 4096 };
    this.now = now;
    this.nextEstimate = now + EST_INTERVAL_MS;
  }

  findService(id: ServiceId): Service | undefined {
    return this.services.get(serviceKey(id));
  }

  /** Apply one Director API operation; the result carries the kernel's errno on failure. */
  apply(op: DirectorOp): OpResult {
    switch (op.op) {
      case "add-service":
        return addService(this, op.service, op.config);
      case "edit-service":
        return editService(this, op.service, op.config);
      case "delete-service":
        return deleteService(this, op.service);
      case "flush":
        return flush(this);
      case "add-server":
        return addDest(this, op.service, op.dest);
      case "edit-server":
        return editDest(this, op.service, op.dest);
      case "delete-server":
        return deleteDest(this, op.service, op.addr, op.port);
      case "zero":
        return zero(this, op.service);
      case "set-timeouts":
        this.timeouts.set(op.tcp, op.tcpfin, op.udp);
        return { ok: true };
      case "start-daemon":
        return this.startDaemon(op.daemon);
      case "stop-daemon":
        return this.stopDaemon(op.state);
    }
  }

  private startDaemon(d: SyncDaemonConfig): OpResult {
    if (this.syncDaemons.some((x) => x.state === d.state)) return { ok: false, errno: "EEXIST" };
    this.syncDaemons.push({ ...d });
    this.syncDaemons.sort((a, b) => (a.state === b.state ? 0 : a.state === "master" ? -1 : 1));
    return { ok: true };
  }

  private stopDaemon(state: "master" | "backup"): OpResult {
    const i = this.syncDaemons.findIndex((x) => x.state === state);
    if (i < 0) return { ok: false, errno: "ESRCH" };
    this.syncDaemons.splice(i, 1);
    return { ok: true };
  }

  /** Move the clock to `now`: connection and template timers, scheduler timers, estimators, trash. */
  advance(now: number): void {
    if (now < this.now) return;
    let rounds = 0;
    for (;;) {
      // Counters only change through operations, so within one advance every estimator round
      // after the first sees Δ = 0; 200 such rounds bring every average to 0 and more do nothing.
      if (rounds >= 200 && this.nextEstimate <= now) {
        this.nextEstimate += (Math.floor((now - this.nextEstimate) / EST_INTERVAL_MS) + 1) * EST_INTERVAL_MS;
      }
      const next = Math.min(this.conns.nextExpiry(), this.nextEstimate);
      if (next > now) break;
      runSchedulerTicks(this, next);
      this.now = next;
      if (next === this.nextEstimate) {
        this.estimate();
        rounds++;
      }
      expireDue(this, next);
    }
    runSchedulerTicks(this, now);
    this.now = now;
    this.emptyTrash();
  }

  /** One 2-second estimator round over every service and destination. */
  private estimate(): void {
    for (const svc of this.services.values()) {
      svc.est.sample(svc.stats.read());
      for (const d of svc.dests) d.est.sample(d.stats.read());
    }
    this.nextEstimate += EST_INTERVAL_MS;
  }

  private emptyTrash(): void {
    for (const d of this.trash) {
      if (d.refs === 0 && d.deletedAt !== null && this.now - d.deletedAt >= DEST_TRASH_MS)
        this.trash.delete(d);
    }
  }
}
