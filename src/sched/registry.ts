import type { Service } from "../model/service.ts";
import { createDh } from "./dh.ts";
import { createFo } from "./fo.ts";
import { DEFAULT_EXPIRATION_S, lblcWith } from "./lblc.ts";
import { lblcrWith } from "./lblcr.ts";
import { createLc } from "./lc.ts";
import { createMh } from "./mh.ts";
import { createNq } from "./nq.ts";
import { createOvf } from "./ovf.ts";
import { createRr } from "./rr.ts";
import type { Scheduler, SchedulerFactory } from "./scheduler.ts";
import { createSed } from "./sed.ts";
import { createSh } from "./sh.ts";
import { defaultRandom, type RandomU32, twosWith } from "./twos.ts";
import { createWlc } from "./wlc.ts";
import { createWrr } from "./wrr.ts";

/** The 14 scheduler modules of Linux 6.12 (`none` is handled by the director: no scheduler). */
export const SCHEDULER_NAMES = [
  "rr",
  "wrr",
  "lc",
  "wlc",
  "lblc",
  "lblcr",
  "dh",
  "sh",
  "sed",
  "nq",
  "fo",
  "ovf",
  "mh",
  "twos",
] as const;

export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

export interface SchedulerOptions {
  /** u32 source for twos; default: mulberry32 seeded from crypto.getRandomValues. */
  random?: RandomU32;
  /** sysctl lblc_expiration in seconds (default 86400). */
  lblcExpiration?: number;
  /** sysctl lblcr_expiration in seconds (default 86400). */
  lblcrExpiration?: number;
}

function factoryFor(name: string, opts: SchedulerOptions): SchedulerFactory | null {
  switch (name) {
    case "rr":
      return createRr;
    case "wrr":
      return createWrr;
    case "lc":
      return createLc;
    case "wlc":
      return createWlc;
    case "lblc":
      return lblcWith(opts.lblcExpiration ?? DEFAULT_EXPIRATION_S);
    case "lblcr":
      return lblcrWith(opts.lblcrExpiration ?? DEFAULT_EXPIRATION_S);
    case "dh":
      return createDh;
    case "sh":
      return createSh;
    case "sed":
      return createSed;
    case "nq":
      return createNq;
    case "fo":
      return createFo;
    case "ovf":
      return createOvf;
    case "mh":
      return createMh;
    case "twos":
      return twosWith(opts.random ?? defaultRandom());
    default:
      return null;
  }
}

export function isSchedulerName(name: string): name is SchedulerName {
  return (SCHEDULER_NAMES as readonly string[]).includes(name);
}

/**
 * Bind a new scheduler instance to `svc` (its current dests are the initial set). Returns null
 * for an unknown name; the director reports that as ENOENT.
 */
export function createScheduler(
  name: string,
  svc: Service,
  now: number,
  opts: SchedulerOptions = {},
): Scheduler | null {
  const factory = factoryFor(name, opts);
  return factory === null ? null : factory(svc, now);
}
