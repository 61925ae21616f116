/**
 * Configuration changes with the kernel's checks (ip_vs_ctl.c: ip_vs_add_service, edit, del,
 * ip_vs_add_dest / edit / del, zero), returning the errno the kernel would.
 */
import type { IpAddr } from "../model/addr.ts";
import { Dest, type DestConfig } from "../model/dest.ts";
import { RateEstimator } from "../model/rate.ts";
import { Service, type ServiceConfig, type ServiceId } from "../model/service.ts";
import { zeroStats } from "../model/stats.ts";
import { createScheduler, SCHEDULER_NAMES } from "../sched/registry.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import type { KernelErrno, OpResult } from "./api.ts";
import type { Director } from "./director.ts";

const OK: OpResult = { ok: true };
const fail = (errno: KernelErrno): OpResult => ({ ok: false, errno });

/** Persistence engines the kernel can load. */
const PERSISTENCE_ENGINES = new Set(["sip"]);

/** Scheduler instance for `name`, "none" → null; undefined when no such scheduler module exists. */
function makeScheduler(d: Director, name: string, svc: Service): Scheduler | null | undefined {
  if (name === "none") return null;
  return createScheduler(name, svc, d.now, d.opts) ?? undefined;
}

function checkServiceConfig(id: ServiceId, cfg: ServiceConfig): KernelErrno | null {
  if (cfg.scheduler !== "none" && !(SCHEDULER_NAMES as readonly string[]).includes(cfg.scheduler))
    return "ENOENT";
  if (cfg.peName && !PERSISTENCE_ENGINES.has(cfg.peName)) return "ENOENT";
  if (id.af === "inet6" && (cfg.netmask < 1 || cfg.netmask > 128)) return "EINVAL";
  return null;
}

export function addService(d: Director, id: ServiceId, cfg: ServiceConfig): OpResult {
  if (d.findService(id)) return fail("EEXIST");
  const err = checkServiceConfig(id, cfg);
  if (err) return fail(err);
  const svc = new Service(id, cfg);
  svc.est.zero(zeroStats());
  svc.sched = makeScheduler(d, cfg.scheduler, svc) ?? null;
  d.services.set(svc.key, svc);
  return OK;
}

export function editService(d: Director, id: ServiceId, cfg: ServiceConfig): OpResult {
  const svc = d.findService(id);
  if (!svc) return fail("ESRCH");
  const err = checkServiceConfig(id, cfg);
  if (err) return fail(err);
  svc.flags = cfg.flags;
  svc.timeout = cfg.timeout;
  svc.netmask = cfg.netmask;
  svc.peName = cfg.peName;
  // The kernel re-binds only when the scheduler module differs; the new one starts from the
  // current destinations.
  if (cfg.scheduler !== svc.scheduler) {
    svc.sched?.done?.(svc);
    svc.scheduler = cfg.scheduler;
    svc.sched = null;
    svc.sched = makeScheduler(d, cfg.scheduler, svc) ?? null;
  }
  return OK;
}

/** Move a dest out of its service into the trash (it keeps serving its existing connections). */
function retireDest(d: Director, svc: Service, dest: Dest, notifyScheduler: boolean): void {
  dest.available = false;
  dest.deletedAt = d.now;
  svc.dests = svc.dests.filter((x) => x !== dest);
  if (notifyScheduler) svc.sched?.delDest?.(svc, dest);
  d.trash.add(dest);
}

export function deleteService(d: Director, id: ServiceId): OpResult {
  const svc = d.findService(id);
  if (!svc) return fail("ESRCH");
  removeService(d, svc);
  return OK;
}

function removeService(d: Director, svc: Service): void {
  svc.sched?.done?.(svc);
  svc.sched = null;
  for (const dest of [...svc.dests]) retireDest(d, svc, dest, false);
  d.services.delete(svc.key);
}

export function flush(d: Director): OpResult {
  for (const svc of [...d.services.values()]) removeService(d, svc);
  return OK;
}

function checkDestConfig(cfg: DestConfig): KernelErrno | null {
  if (cfg.weight < 0) return "ERANGE";
  if (cfg.lThreshold >>> 0 > cfg.uThreshold >>> 0) return "ERANGE";
  if (cfg.forward === "tunnel" && cfg.tunnelType === "gue" && cfg.tunnelPort === 0) return "EINVAL";
  return null;
}

/** inet_addr_type / ipv6_addr_type: only unicast (or local) addresses may be real servers. */
function isUnicast(a: IpAddr): boolean {
  if (a.af === "inet") {
    const w = a.words[0];
    if (w >>> 24 === 0) return false; // 0.0.0.0/8 ("zeronet") is RTN_BROADCAST
    if (w === 0xffffffff) return false;
    if (w >>> 28 === 0xe) return false; // multicast
    return true;
  }
  const [w0, w1, w2, w3] = a.words;
  if ((w0 | w1 | w2 | w3) === 0) return false; // ::
  if (w0 >>> 24 === 0xff) return false; // multicast
  return true;
}

/** __ip_vs_update_dest: every field from the request; weight 0 keeps last_weight except on add. */
function updateDest(svc: Service, dest: Dest, cfg: DestConfig, add: boolean): void {
  dest.forward = cfg.forward;
  dest.tunnelType = cfg.tunnelType;
  dest.tunnelPort = cfg.tunnelPort;
  dest.tunnelCsum = cfg.tunnelCsum;
  dest.weight = cfg.weight;
  if (add || cfg.weight !== 0) dest.lastWeight = cfg.weight;
  dest.available = true;
  dest.deletedAt = null;
  if (!cfg.uThreshold || cfg.uThreshold >>> 0 > dest.uThreshold >>> 0) dest.overloaded = false;
  dest.uThreshold = cfg.uThreshold;
  dest.lThreshold = cfg.lThreshold;
  if (add) {
    dest.svc = svc;
    svc.dests.unshift(dest);
    svc.sched?.addDest?.(svc, dest);
  } else {
    svc.sched?.updDest?.(svc, dest);
  }
}

function trashLookup(d: Director, svc: Service, addr: IpAddr, port: number): Dest | undefined {
  for (const dest of d.trash) {
    if (
      dest.svc?.key === svc.key &&
      dest.addr.text === addr.text &&
      dest.addr.af === addr.af &&
      dest.port === port
    )
      return dest;
  }
  return undefined;
}

export function addDest(d: Director, id: ServiceId, cfg: DestConfig): OpResult {
  const svc = d.findService(id);
  if (!svc) return fail("ESRCH");
  const err = checkDestConfig(cfg);
  if (err) return fail(err);
  if (svc.findDest(cfg.addr, cfg.port)) return fail("EEXIST");
  const old = trashLookup(d, svc, cfg.addr, cfg.port);
  if (old) {
    d.trash.delete(old);
    updateDest(svc, old, cfg, true);
    return OK;
  }
  if (!isUnicast(cfg.addr)) return fail("EINVAL");
  const dest = new Dest(cfg, new RateEstimator());
  dest.est.zero(zeroStats());
  updateDest(svc, dest, cfg, true);
  return OK;
}

export function editDest(d: Director, id: ServiceId, cfg: DestConfig): OpResult {
  const svc = d.findService(id);
  if (!svc) return fail("ESRCH");
  const err = checkDestConfig(cfg);
  if (err) return fail(err);
  const dest = svc.findDest(cfg.addr, cfg.port);
  if (!dest) return fail("ENOENT");
  updateDest(svc, dest, cfg, false);
  return OK;
}

export function deleteDest(d: Director, id: ServiceId, addr: IpAddr, port: number): OpResult {
  const svc = d.findService(id);
  if (!svc) return fail("ESRCH");
  const dest = svc.findDest(addr, port);
  if (!dest) return fail("ENOENT");
  retireDest(d, svc, dest, true);
  return OK;
}

function zeroService(svc: Service): void {
  svc.stats.zero();
  svc.est.zero(zeroStats());
  for (const dest of svc.dests) {
    dest.stats.zero();
    dest.est.zero(zeroStats());
  }
}

export function zero(d: Director, id: ServiceId | null): OpResult {
  if (id === null) {
    for (const svc of d.services.values()) zeroService(svc);
    return OK;
  }
  const svc = d.findService(id);
  if (!svc) return fail("ESRCH");
  zeroService(svc);
  return OK;
}
