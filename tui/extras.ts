/**
 * Snapshot fields that other parts of uvs will add later (health checks, VRRP). The readers are
 * tolerant: snake_case or camelCase, flat or nested; anything they cannot read is left out.
 * docs/tui.md lists the shape they expect. No field → no data → the screen stays hidden.
 */
import type { Snapshot } from "../src/model/snapshot.ts";

export interface HealthEntry {
  /** The virtual service, as the daemon names it (e.g. `TCP 127.0.0.1:8080`) */
  service: string;
  /** `ADDR:PORT` of the real server */
  server: string;
  checker: string;
  /** `up`, `down`, or whatever the checker says (`unknown`, `disabled` …) */
  state: string;
  /** epoch ms of the last state change */
  since: number | null;
  /** the last result's reason, e.g. `connect: connection refused` */
  reason: string;
  latencyMs: number | null;
  /** epoch ms of the last result */
  lastAt: number | null;
}

export interface VrrpEntry {
  name: string;
  state: string;
  vrid: number | null;
  priority: number | null;
  iface: string;
  vips: string[];
  since: number | null;
  /** The current master's address ("" when unknown). */
  master: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function pick(o: Obj, ...keys: string[]): unknown {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
}
const str = (v: unknown) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** `x.list` when `x` is an object holding a list under one of `keys`, or `x` itself when a list. */
function listOf(v: unknown, ...keys: string[]): Obj[] | null {
  const list = Array.isArray(v) ? v : isObj(v) ? pick(v, ...keys) : undefined;
  return Array.isArray(list) ? list.filter(isObj) : null;
}

function serverOf(o: Obj): string {
  const s = str(pick(o, "server", "real_server", "realServer", "dest", "target"));
  if (s) return s;
  const a = str(pick(o, "address", "addr"));
  const p = num(pick(o, "port"));
  if (!a) return "";
  return p === null ? a : a.includes(":") ? `[${a}]:${p}` : `${a}:${p}`;
}

/** The snapshot's `health` field, or null when the snapshot carries none. */
export function healthOf(snap: Snapshot | null): HealthEntry[] | null {
  const list = snap ? listOf(snap.health, "checkers", "checks", "entries") : null;
  if (!list) return null;
  return list.map((o) => {
    const last = isObj(o.last)
      ? o.last
      : isObj(o.last_result)
        ? o.last_result
        : isObj(o.lastResult)
          ? o.lastResult
          : o;
    return {
      service: str(pick(o, "service", "virtual_server", "virtualServer", "vs")),
      server: serverOf(o),
      checker: str(pick(o, "checker", "type", "kind")),
      state: str(pick(o, "state", "status")) || "unknown",
      since: num(pick(o, "since", "since_ms", "sinceMs", "changed")),
      reason: str(pick(last, "reason", "message", "msg", "error")),
      latencyMs: num(pick(last, "latency_ms", "latencyMs", "latency")),
      lastAt: num(pick(last, "time", "at", "checked", "checked_at", "checkedAt")),
    };
  });
}

/** The snapshot's VRRP instances (`vrrp` or `ha`), or null when it carries none. */
export function vrrpOf(snap: Snapshot | null): VrrpEntry[] | null {
  const list = snap ? (listOf(snap.vrrp, "instances") ?? listOf(snap.ha, "instances", "vrrp")) : null;
  if (!list) return null;
  return list.map((o) => {
    const vips = pick(o, "vips", "virtual_ipaddress", "virtualIpaddress", "addresses");
    return {
      name: str(pick(o, "name", "iname", "instance")),
      state: str(pick(o, "state")) || "unknown",
      vrid: num(pick(o, "vrid", "virtual_router_id", "virtualRouterId")),
      priority: num(pick(o, "priority", "effective_priority", "effectivePriority")),
      iface: str(pick(o, "interface", "iface", "ifname")),
      vips: Array.isArray(vips) ? vips.map(str) : [],
      since: num(pick(o, "since", "since_ms", "sinceMs", "changed")),
      master: str(pick(o, "master", "master_address", "masterAddress")),
    };
  });
}

/** Health state of a real server in a service ("" when no checker watches it). */
export function healthStateOf(health: HealthEntry[] | null, svcAddr: string, server: string): string {
  if (!health) return "";
  let state = "";
  for (const h of health) {
    // The daemon names services `tcp:127.0.0.1:80` / `fwm:5`; tests and docs `TCP 127.0.0.1:80`.
    const same =
      !h.service ||
      h.service === svcAddr ||
      (/[: ]$/.test(h.service.slice(0, -svcAddr.length)) && h.service.endsWith(svcAddr));
    if (h.server !== server || !same) continue;
    if (h.state !== "up") return h.state;
    state = "up";
  }
  return state;
}
