/**
 * Reload = diff the live director against the new rules and produce Director API operations
 * that turn one into the other. Unchanged services and real servers get no operation, so their
 * connections, counters and scheduler state stay. `lines` is the plan for people
 * (`uvs reload --dry-run`), including the share of hash buckets sh/dh/mh services would move.
 */
import type { DirectorOp } from "../director/api.ts";
import { formatAddrPort } from "../model/addr.ts";
import type { Dest, DestConfig } from "../model/dest.ts";
import { type Service, type ServiceConfig, type ServiceId, serviceKey } from "../model/service.ts";
import { type HashMove, hashMove, type TableDest } from "./hash-move.ts";
import type { DestRule, RulesConfig, ServiceRule } from "./model.ts";

export interface ReloadPlan {
  ops: DirectorOp[];
  lines: string[];
  /** Per changed sh/dh/mh service (by service key): buckets that change owner. */
  moves: Map<string, HashMove>;
}

export interface LiveState {
  services: Iterable<Service> | ReadonlyMap<string, Service>;
}

/** `TCP 192.0.2.1:80`, `FWM 7` — as ipvsadm lists services. */
export function serviceLabel(id: ServiceId): string {
  if (id.kind === "fwmark") return `FWM ${id.fwmark}${id.af === "inet6" ? " IPv6" : ""}`;
  return `${id.protocol.toUpperCase()} ${formatAddrPort(id.addr, id.port)}`;
}

function configChanges(a: ServiceConfig, b: ServiceConfig): string[] {
  const out: string[] = [];
  const cmp = (name: string, x: unknown, y: unknown) => {
    if (x !== y) out.push(`${name} ${x} → ${y}`);
  };
  cmp("scheduler", a.scheduler, b.scheduler);
  cmp("flags", `0x${a.flags.toString(16)}`, `0x${b.flags.toString(16)}`);
  cmp("persistence", a.timeout, b.timeout);
  cmp("netmask", a.netmask >>> 0, b.netmask >>> 0);
  cmp("pe", a.peName, b.peName);
  return out;
}

const destFields = (d: DestConfig) => ({
  method: d.forward,
  weight: d.weight,
  "u-threshold": d.uThreshold,
  "l-threshold": d.lThreshold,
  ...(d.forward === "tunnel" ? { tunnel: `${d.tunnelType}:${d.tunnelPort}:${d.tunnelCsum}` } : {}),
});

/** Field changes between the live dest and the rule ([] = unchanged). */
export function destChanges(live: DestConfig, next: DestConfig): string[] {
  const a: Record<string, unknown> = destFields(live);
  const b: Record<string, unknown> = destFields(next);
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => a[k] !== b[k]).map((k) => `${k} ${a[k] ?? "-"} → ${b[k] ?? "-"}`);
}

function liveDestConfig(d: Dest): DestConfig {
  return {
    af: d.af,
    addr: d.addr,
    port: d.port,
    forward: d.forward,
    weight: d.weight,
    uThreshold: d.uThreshold,
    lThreshold: d.lThreshold,
    tunnelType: d.tunnelType,
    tunnelPort: d.tunnelPort,
    tunnelCsum: d.tunnelCsum,
  };
}

const destKey = (d: DestConfig) => formatAddrPort(d.addr, d.port);
const destLine = (d: DestConfig) => `${destKey(d)} ${d.forward} weight ${d.weight}`;

function addService(r: ServiceRule, plan: ReloadPlan): void {
  plan.ops.push({ op: "add-service", service: r.id, config: r.config });
  plan.lines.push(`+ ${serviceLabel(r.id)} ${r.config.scheduler}`);
  for (const d of r.dests) {
    plan.ops.push({ op: "add-server", service: r.id, dest: d.config });
    plan.lines.push(`+   -> ${destLine(d.config)}`);
  }
}

/** The list after the dest ops, as the kernel orders it: edits in place, adds at the head. */
function tableAfter(live: Service, dests: DestRule[], removed: Set<string>): TableDest[] {
  const next = new Map(dests.map((d) => [destKey(d.config), d.config]));
  const kept = live.dests
    .filter((d) => !removed.has(d.key))
    .map((d) => {
      const cfg = next.get(d.key) ?? liveDestConfig(d);
      return { config: cfg, lastWeight: cfg.weight !== 0 ? cfg.weight : d.lastWeight };
    });
  const adds = dests.filter((d) => !live.findDest(d.config.addr, d.config.port));
  for (const d of adds) kept.unshift({ config: d.config, lastWeight: d.config.weight });
  return kept;
}

function moveLine(m: HashMove): string {
  const pct = ((100 * m.moved) / m.size).toFixed(1);
  const unit = m.scheduler === "mh" ? "slots" : "buckets";
  return `    ${m.scheduler}: ${m.moved} of ${m.size} ${unit} (${pct}%) move to another real server`;
}

function changeService(live: Service, r: ServiceRule, plan: ReloadPlan): void {
  const label = serviceLabel(r.id);
  const cfgDiff = configChanges(live, r.config);
  if (cfgDiff.length) plan.ops.push({ op: "edit-service", service: r.id, config: r.config });
  const nextKeys = new Set(r.dests.map((d) => destKey(d.config)));
  const removed = new Set(live.dests.filter((d) => !nextKeys.has(d.key)).map((d) => d.key));
  const destLines: string[] = [];
  for (const d of live.dests.filter((x) => removed.has(x.key))) {
    plan.ops.push({ op: "delete-server", service: r.id, addr: d.addr, port: d.port });
    destLines.push(`-   -> ${d.key}`);
  }
  for (const d of r.dests) {
    const cur = live.findDest(d.config.addr, d.config.port);
    const diff = cur ? destChanges(liveDestConfig(cur), d.config) : [];
    if (!cur || !diff.length) continue;
    plan.ops.push({ op: "edit-server", service: r.id, dest: d.config });
    destLines.push(`~   -> ${destKey(d.config)}: ${diff.join(", ")}`);
  }
  for (const d of r.dests.filter((x) => !live.findDest(x.config.addr, x.config.port))) {
    plan.ops.push({ op: "add-server", service: r.id, dest: d.config });
    destLines.push(`+   -> ${destLine(d.config)}`);
  }
  if (!cfgDiff.length && !destLines.length) return;
  plan.lines.push(`~ ${label}${cfgDiff.length ? `: ${cfgDiff.join(", ")}` : ""}`, ...destLines);
  if (destLines.length && live.scheduler === r.config.scheduler) {
    const before = live.dests.map((d) => ({ config: liveDestConfig(d), lastWeight: d.lastWeight }));
    const m = hashMove(r.id, r.config, before, tableAfter(live, r.dests, removed));
    if (m) {
      plan.moves.set(serviceKey(r.id), m);
      plan.lines.push(moveLine(m));
    }
  }
}

function liveServices(current: LiveState): Service[] {
  const s = current.services;
  return s instanceof Map ? [...s.values()] : [...(s as Iterable<Service>)];
}

/** The operations that make the live director match `next`, and the plan in words. */
export function planReload(current: LiveState, next: RulesConfig): ReloadPlan {
  const plan: ReloadPlan = { ops: [], lines: [], moves: new Map() };
  const live = new Map(liveServices(current).map((s) => [s.key, s]));
  const wanted = new Set(next.services.map((r) => serviceKey(r.id)));
  for (const s of live.values()) {
    if (wanted.has(s.key)) continue;
    plan.ops.push({ op: "delete-service", service: s.id });
    plan.lines.push(`- ${serviceLabel(s.id)} (${s.dests.length} real servers)`);
  }
  for (const r of next.services) {
    const cur = live.get(serviceKey(r.id));
    if (cur) changeService(cur, r, plan);
    else addService(r, plan);
  }
  if (plan.lines.length === 0) plan.lines.push("= no changes");
  return plan;
}
