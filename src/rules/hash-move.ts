/**
 * How much of a hashing scheduler's table a reload moves: build the old and the new table with
 * the real scheduler code on scratch services and count the buckets (sh/dh: 256, mh: 4093
 * slots) whose real server differs. Clients hashed to those buckets land elsewhere.
 */
import { formatAddrPort } from "../model/addr.ts";
import { Dest, type DestConfig } from "../model/dest.ts";
import { RateEstimator } from "../model/rate.ts";
import { Service, type ServiceConfig, type ServiceId } from "../model/service.ts";
import { MH_TAB_SIZE } from "../sched/mh.ts";
import { createScheduler } from "../sched/registry.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import { table } from "../util/table.ts";

export const HASH_TABLE_SIZE: Readonly<Record<string, number>> = table({ sh: 256, dh: 256, mh: MH_TAB_SIZE });

/** One destination of a scratch table: its config and the kernel's last non-zero weight. */
export interface TableDest {
  config: DestConfig;
  lastWeight: number;
}

export interface HashMove {
  scheduler: string;
  moved: number;
  size: number;
}

type TableReader = Scheduler & { bucket?(i: number): Dest | null; slot?(i: number): Dest | null };

/** Bucket owners (`addr:port`, "" for empty) of the table `scheduler` builds over `list`. */
export function tableOwners(id: ServiceId, cfg: ServiceConfig, list: readonly TableDest[]): string[] {
  const svc = new Service(id, cfg);
  svc.dests = list.map((t) => {
    const d = new Dest(t.config, new RateEstimator());
    d.lastWeight = t.lastWeight;
    d.svc = svc;
    return d;
  });
  const sched = createScheduler(cfg.scheduler, svc, 0) as TableReader | null;
  const size = HASH_TABLE_SIZE[cfg.scheduler] ?? 0;
  const read = sched?.bucket?.bind(sched) ?? sched?.slot?.bind(sched);
  const out: string[] = [];
  for (let i = 0; i < size; i++) {
    const d = read ? read(i) : null;
    out.push(d ? formatAddrPort(d.addr, d.port) : "");
  }
  return out;
}

/** Buckets whose owner differs between two tables of one hashing scheduler. */
export function hashMove(
  id: ServiceId,
  cfg: ServiceConfig,
  before: readonly TableDest[],
  after: readonly TableDest[],
): HashMove | null {
  const size = HASH_TABLE_SIZE[cfg.scheduler];
  if (!size) return null;
  const a = tableOwners(id, cfg, before);
  const b = tableOwners(id, cfg, after);
  let moved = 0;
  for (let i = 0; i < size; i++) if (a[i] !== b[i]) moved++;
  return { scheduler: cfg.scheduler, moved, size };
}
