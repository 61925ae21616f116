/**
 * keepalived's `vrrp_instance`, `vrrp_script` and `vrrp_sync_group` blocks (kept as written in
 * RulesConfig.blocks) → typed settings with keepalived's defaults (spec keepalived.md §3.1). Every
 * problem is reported with its position; invalid values are errors (keepalived would log and fall
 * back to the default, which hides typos — spec §1.2).
 */
import type { IpAddr } from "../model/addr.ts";
import type { Stmt } from "../rules/cst.ts";
import { unknownKeyword } from "../rules/keywords.ts";
import type { Diagnostics, Pos } from "../rules/model.ts";
import { stmtPos, tokPos } from "../rules/values.ts";
import { table } from "../util/table.ts";
import {
  blockOf,
  commandStmt,
  flagStmt,
  intStmt,
  intTok,
  ipStmt,
  ipTok,
  noBlock,
  oneArg,
  secondsStmt,
  type VCtx,
  weightArgs,
} from "./vrrp-config-values.ts";
import { type GarpSettings, globalVrrp, type VrrpGlobals } from "./vrrp-globals.ts";
import type { VrrpVersion } from "./vrrp-packet.ts";
import { type VipConfig, vipBlock } from "./vrrp-vips.ts";

export type { GarpSettings, VrrpGlobals } from "./vrrp-globals.ts";
export type { VipConfig } from "./vrrp-vips.ts";

export interface UnicastPeer {
  addr: IpAddr;
  minTtl: number | null;
  maxTtl: number | null;
  pos: Pos;
}

export interface TrackedItem {
  name: string;
  /** null: the vrrp_script's own weight (track_script), or 0 (track_interface). */
  weight: number | null;
  reverse: boolean;
  pos: Pos;
}

export interface NotifyScripts {
  master: string | null;
  backup: string | null;
  fault: string | null;
  stop: string | null;
  /** `notify CMD`: run on every transition with the new state as an argument. */
  any: string | null;
  masterRxLowerPri: string | null;
}

export interface VrrpInstanceConfig {
  name: string;
  pos: Pos;
  /** The configured `state`: only decides the owner's immediate start (spec §3.5 Startup). */
  initialState: "MASTER" | "BACKUP";
  interface: string | null;
  vrid: number;
  /** 1..255; 255 = address owner. */
  priority: number;
  /** Centiseconds. v2: whole seconds (×100). */
  advertIntCs: number;
  version: VrrpVersion;
  family: "inet" | "inet6";
  auth: { type: "PASS"; pass: string } | null;
  vips: VipConfig[];
  /** Added and removed like VIPs, never carried in adverts. */
  excludedVips: VipConfig[];
  nopreempt: boolean;
  preemptDelayMs: number;
  unicastSrcIp: IpAddr | null;
  unicastPeers: UnicastPeer[];
  unicastTtl: number;
  mcastSrcIp: IpAddr | null;
  mcastDstIp: IpAddr;
  trackInterfaces: TrackedItem[];
  trackScripts: TrackedItem[];
  dontTrackPrimary: boolean;
  notify: NotifyScripts;
  garp: GarpSettings;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  skipCheckAdvAddr: boolean;
  checkUnicastSrc: boolean;
  /** The multiplier of Master_Down_Interval (3). */
  downTimerAdverts: number;
  /** v3 IPv4: send the checksum without the pseudo-header. */
  v3ChecksumAsV2: boolean;
  /** The vrrp_sync_group it belongs to, if any. */
  syncGroup: string | null;
  /** keepalived keywords uvs keeps but does not act on (virtual_routes, use_vmac, …). */
  kept: Stmt[];
}

export interface VrrpScriptConfig {
  name: string;
  pos: Pos;
  script: string;
  intervalMs: number;
  /** 0 = the interval. */
  timeoutMs: number;
  weight: number;
  reverse: boolean;
  rise: number;
  fall: number;
  user: string | null;
  initFail: boolean;
}

export interface VrrpSyncGroupConfig {
  name: string;
  pos: Pos;
  members: string[];
  notify: NotifyScripts;
}

export interface VrrpConfig {
  globals: VrrpGlobals;
  instances: VrrpInstanceConfig[];
  scripts: VrrpScriptConfig[];
  syncGroups: VrrpSyncGroupConfig[];
}

/** Keywords keepalived knows inside vrrp_instance that uvs keeps without acting on (warned). */
const INSTANCE_KEPT = new Set([
  "virtual_routes",
  "virtual_rules",
  "use_vmac",
  "vmac_xmit_base",
  "use_vmac_addr",
  "use_ipvlan",
  "track_file",
  "track_process",
  "track_bfd",
  "accept",
  "no_accept",
  "strict_mode",
  "old_unicast_checksum",
  "track_src_ip",
  "promote_secondaries",
  "native_ipv6",
  "linkbeat_use_polling",
  "kernel_rx_buf_size",
  "debug",
  "notify_deleted",
  "unicast_fault_no_peer",
  "smtp_alert",
  "garp_extra_if",
  "owner_ignore_adverts",
]);

interface Draft {
  cfg: VrrpInstanceConfig;
  stateStmt: Stmt | null;
  priorityStmt: Stmt | null;
  versionSet: boolean;
  advertInt: { ms: number; stmt: Stmt } | null;
  authStmt: Stmt | null;
  preemptStmts: Stmt[];
  /** A virtual_router_id statement was there (a wrong value has its own error). */
  vridGiven: boolean;
}

type Handler = (ctx: VCtx, s: Stmt, d: Draft) => void;

const setNotify =
  (key: keyof NotifyScripts): Handler =>
  (ctx, s, d) => {
    d.cfg.notify[key] = commandStmt(ctx, s) ?? d.cfg.notify[key];
  };

const setFlag =
  (
    key: "nopreempt" | "dontTrackPrimary" | "lowerPrioNoAdvert" | "higherPrioSendAdvert" | "skipCheckAdvAddr",
  ): Handler =>
  (ctx, s, d) => {
    d.cfg[key] = flagStmt(ctx, s) ?? d.cfg[key];
    if (key === "nopreempt") d.preemptStmts.push(s);
  };

const setGarp =
  (key: keyof GarpSettings, kind: "seconds" | "count"): Handler =>
  (ctx, s, d) => {
    const v = kind === "seconds" ? secondsStmt(ctx, s, 0, 1000) : intStmt(ctx, s, 1, 10000);
    if (v !== null) (d.cfg.garp as unknown as Record<string, number>)[key] = v;
  };

const HANDLERS: Record<string, Handler> = table({
  state: (ctx, s, d) => {
    const t = oneArg(ctx, s, "MASTER or BACKUP");
    if (t && t.text !== "MASTER" && t.text !== "BACKUP")
      ctx.diags.error(tokPos(s.file, t), `invalid state '${t.text}': expected MASTER or BACKUP`);
    else if (t) {
      d.cfg.initialState = t.text as "MASTER" | "BACKUP";
      d.stateStmt = s;
    }
  },
  interface: (ctx, s, d) => {
    d.cfg.interface = oneArg(ctx, s, "an interface name")?.text ?? d.cfg.interface;
  },
  virtual_router_id: (ctx, s, d) => {
    d.vridGiven = true;
    d.cfg.vrid = intStmt(ctx, s, 1, 255) ?? d.cfg.vrid;
  },
  priority: (ctx, s, d) => {
    const p = intStmt(ctx, s, 1, 255);
    if (p !== null) {
      d.cfg.priority = p;
      d.priorityStmt = s;
    }
  },
  advert_int: (ctx, s, d) => {
    const ms = secondsStmt(ctx, s, 0.01, 255);
    if (ms !== null) d.advertInt = { ms, stmt: s };
  },
  version: (ctx, s, d) => {
    const v = intStmt(ctx, s, 2, 3);
    if (v !== null) {
      d.cfg.version = v as VrrpVersion;
      d.versionSet = true;
    }
  },
  authentication: (ctx, s, d) => authentication(ctx, s, d),
  virtual_ipaddress: (ctx, s, d) => {
    d.cfg.vips.push(...vipBlock(ctx, s));
  },
  virtual_ipaddress_excluded: (ctx, s, d) => {
    d.cfg.excludedVips.push(...vipBlock(ctx, s));
  },
  nopreempt: setFlag("nopreempt"),
  preempt: (ctx, s, d) => {
    // keepalived's deprecated opposite of nopreempt
    const v = flagStmt(ctx, s);
    if (v !== null) d.cfg.nopreempt = !v;
  },
  preempt_delay: (ctx, s, d) => {
    d.cfg.preemptDelayMs = secondsStmt(ctx, s, 0, 1000) ?? d.cfg.preemptDelayMs;
    d.preemptStmts.push(s);
  },
  unicast_src_ip: (ctx, s, d) => {
    d.cfg.unicastSrcIp = ipStmt(ctx, s) ?? d.cfg.unicastSrcIp;
  },
  unicast_peer: (ctx, s, d) => {
    for (const p of blockOf(ctx, s) ?? []) {
      const peer = unicastPeer(ctx, p);
      if (peer) d.cfg.unicastPeers.push(peer);
    }
  },
  unicast_ttl: (ctx, s, d) => {
    d.cfg.unicastTtl = intStmt(ctx, s, 1, 255) ?? d.cfg.unicastTtl;
  },
  mcast_src_ip: (ctx, s, d) => {
    d.cfg.mcastSrcIp = ipStmt(ctx, s) ?? d.cfg.mcastSrcIp;
  },
  mcast_dst_ip: (ctx, s, d) => {
    d.cfg.mcastDstIp = ipStmt(ctx, s) ?? d.cfg.mcastDstIp;
  },
  track_interface: (ctx, s, d) => {
    d.cfg.trackInterfaces.push(...tracked(ctx, s));
  },
  track_script: (ctx, s, d) => {
    d.cfg.trackScripts.push(...tracked(ctx, s));
  },
  dont_track_primary: setFlag("dontTrackPrimary"),
  notify_master: setNotify("master"),
  notify_backup: setNotify("backup"),
  notify_fault: setNotify("fault"),
  notify_stop: setNotify("stop"),
  notify: setNotify("any"),
  notify_master_rx_lower_pri: setNotify("masterRxLowerPri"),
  garp_master_delay: setGarp("masterDelayMs", "seconds"),
  garp_master_repeat: setGarp("masterRepeat", "count"),
  garp_lower_prio_delay: setGarp("lowerPrioDelayMs", "seconds"),
  garp_lower_prio_repeat: setGarp("lowerPrioRepeat", "count"),
  garp_master_refresh: setGarp("masterRefreshMs", "seconds"),
  garp_master_refresh_repeat: setGarp("masterRefreshRepeat", "count"),
  lower_prio_no_advert: setFlag("lowerPrioNoAdvert"),
  higher_prio_send_advert: setFlag("higherPrioSendAdvert"),
  skip_check_adv_addr: setFlag("skipCheckAdvAddr"),
  check_unicast_src: (ctx, s, d) => {
    if (noBlock(ctx, s)) d.cfg.checkUnicastSrc = true;
  },
  down_timer_adverts: (ctx, s, d) => {
    d.cfg.downTimerAdverts = intStmt(ctx, s, 1, 100) ?? d.cfg.downTimerAdverts;
  },
  v3_checksum_as_v2: (ctx, s, d) => {
    d.cfg.v3ChecksumAsV2 = flagStmt(ctx, s) ?? d.cfg.v3ChecksumAsV2;
  },
});

/** `authentication { auth_type PASS|AH; auth_pass S }` (spec §3.1; uvs has no AH). */
function authentication(ctx: VCtx, s: Stmt, d: Draft): void {
  let type: string | null = null;
  let pass: string | null = null;
  for (const a of blockOf(ctx, s) ?? []) {
    const t = oneArg(ctx, a, a.keyword.text === "auth_type" ? "PASS or AH" : "a password");
    if (!t) continue;
    if (a.keyword.text === "auth_type") {
      if (t.text === "AH")
        ctx.diags.error(tokPos(a.file, t), "auth_type AH is not supported by uvs (use PASS)");
      else if (t.text !== "PASS")
        ctx.diags.error(tokPos(a.file, t), `invalid auth_type '${t.text}': expected PASS`);
      else type = "PASS";
    } else if (a.keyword.text === "auth_pass") {
      pass = t.text;
      // keepalived: "Truncating auth_pass to 8 characters" (the advert has 8 bytes for it)
      if (new TextEncoder().encode(pass).length > 8)
        ctx.diags.warn(tokPos(a.file, t), "auth_pass is longer than 8 characters: only the first 8 are used");
    } else
      ctx.diags.error(
        stmtPos(a),
        unknownKeyword(a.keyword.text, "authentication", ["auth_type", "auth_pass"]),
      );
  }
  d.authStmt = s;
  if (type === "PASS" && pass === null) ctx.diags.error(stmtPos(s), "auth_type PASS needs an auth_pass");
  if (type === "PASS" && pass !== null) d.cfg.auth = { type: "PASS", pass };
}

function unicastPeer(ctx: VCtx, p: Stmt): UnicastPeer | null {
  const addr = ipTok(ctx, p, p.keyword);
  const peer: UnicastPeer = { addr: addr as IpAddr, minTtl: null, maxTtl: null, pos: stmtPos(p) };
  for (let i = 0; i < p.args.length; i += 2) {
    const k = p.args[i].text;
    const v = p.args[i + 1];
    if ((k !== "min_ttl" && k !== "max_ttl") || !v) {
      ctx.diags.error(
        tokPos(p.file, p.args[i]),
        `unexpected '${k}' in unicast_peer: expected min_ttl N or max_ttl N`,
      );
      return null;
    }
    const n = intTok(ctx, p, v, 0, 255);
    if (k === "min_ttl") peer.minTtl = n;
    else peer.maxTtl = n;
  }
  return addr ? peer : null;
}

/** `track_interface { IF [weight W [reverse]] … }`, `track_script { NAME [weight W …] … }`. */
function tracked(ctx: VCtx, s: Stmt): TrackedItem[] {
  const out: TrackedItem[] = [];
  for (const t of blockOf(ctx, s) ?? []) {
    const w = weightArgs(ctx, t, t.args);
    if (w) out.push({ name: t.keyword.text, weight: w.weight, reverse: w.reverse, pos: stmtPos(t) });
  }
  return out;
}

function newInstance(name: string, pos: Pos, g: VrrpGlobals): VrrpInstanceConfig {
  return {
    name,
    pos,
    initialState: "BACKUP",
    interface: null,
    vrid: 0,
    priority: 100,
    advertIntCs: 100,
    version: g.version,
    family: "inet",
    auth: null,
    vips: [],
    excludedVips: [],
    nopreempt: false,
    preemptDelayMs: 0,
    unicastSrcIp: null,
    unicastPeers: [],
    unicastTtl: 255,
    mcastSrcIp: null,
    mcastDstIp: g.mcastGroup4,
    trackInterfaces: [],
    trackScripts: [],
    dontTrackPrimary: false,
    notify: { master: null, backup: null, fault: null, stop: null, any: null, masterRxLowerPri: null },
    garp: { ...g.garp },
    lowerPrioNoAdvert: g.lowerPrioNoAdvert,
    higherPrioSendAdvert: g.higherPrioSendAdvert,
    skipCheckAdvAddr: g.skipCheckAdvAddr,
    checkUnicastSrc: g.checkUnicastSrc,
    downTimerAdverts: 3,
    v3ChecksumAsV2: false,
    syncGroup: null,
    kept: [],
  };
}

/** Family, version and the interval's unit, once the whole block is read. */
function resolveFamily(ctx: VCtx, d: Draft, g: VrrpGlobals): void {
  const c = d.cfg;
  const fams = new Set(c.vips.map((v) => v.addr.af));
  if (fams.size > 1) ctx.diags.error(c.pos, "virtual_ipaddress mixes IPv4 and IPv6 addresses");
  c.family = fams.has("inet6") && fams.size === 1 ? "inet6" : "inet";
  if (c.family === "inet6") {
    // keepalived: IPv6 instances are always VRRPv3
    if (d.versionSet && c.version === 2) ctx.diags.warn(c.pos, "an IPv6 instance uses VRRP version 3");
    c.version = 3;
    if (c.mcastDstIp === g.mcastGroup4) c.mcastDstIp = g.mcastGroup6;
  }
  if (c.version === 3 && d.authStmt)
    ctx.diags.warn(stmtPos(d.authStmt), "authentication is ignored with VRRP version 3");
  if (c.version === 3) c.auth = null;
  const ms = d.advertInt?.ms ?? 1000;
  if (c.version === 2) {
    // v2: whole seconds, fractions rounded, minimum 1
    const sec = Math.max(1, Math.round(ms / 1000));
    if (sec * 1000 !== ms && d.advertInt)
      ctx.diags.warn(stmtPos(d.advertInt.stmt), `VRRPv2 advert_int is whole seconds: using ${sec}`);
    c.advertIntCs = sec * 100;
  } else {
    const cs = Math.round(ms / 10);
    if ((cs < 1 || cs > 4095) && d.advertInt)
      ctx.diags.error(stmtPos(d.advertInt.stmt), "VRRPv3 advert_int must be 0.01..40.95 seconds");
    c.advertIntCs = Math.min(4095, Math.max(1, cs));
  }
}

/** state / priority / preemption interplay (spec §3.1 `state`, `nopreempt`). */
function resolveState(ctx: VCtx, d: Draft): void {
  const c = d.cfg;
  if (d.stateStmt && c.initialState === "MASTER" && !d.priorityStmt) c.priority = 255;
  if (!d.stateStmt) c.initialState = c.priority === 255 ? "MASTER" : "BACKUP";
  if (c.initialState === "MASTER" && (c.nopreempt || c.preemptDelayMs > 0)) {
    ctx.diags.warn(
      stmtPos(d.preemptStmts[0] ?? (d.stateStmt as Stmt)),
      "state MASTER disables nopreempt and preempt_delay",
    );
    c.nopreempt = false;
    c.preemptDelayMs = 0;
  }
  if (c.priority === 255 && c.nopreempt) {
    ctx.diags.warn(stmtPos(d.preemptStmts[0]), "an address owner (priority 255) cannot be nopreempt");
    c.nopreempt = false;
  }
}

function checkRequired(ctx: VCtx, d: Draft): void {
  const c = d.cfg;
  if (c.vrid === 0 && !d.vridGiven)
    ctx.diags.error(c.pos, `vrrp_instance '${c.name}' has no virtual_router_id`);
  if (!c.interface && c.unicastPeers.length === 0)
    ctx.diags.error(c.pos, `vrrp_instance '${c.name}' has no interface (required unless unicast)`);
  if (c.vips.length === 0) ctx.diags.warn(c.pos, `vrrp_instance '${c.name}' has no virtual_ipaddress`);
  const fam = c.family;
  for (const p of c.unicastPeers)
    if (p.addr.af !== fam)
      ctx.diags.error(p.pos, `unicast peer ${p.addr.text} is not of the instance's family`);
}

function parseInstance(ctx: VCtx, s: Stmt, g: VrrpGlobals): VrrpInstanceConfig | null {
  const name = oneArg(ctx, s, "an instance name");
  const body = blockOf(ctx, s);
  if (!name || !body) return null;
  const d: Draft = {
    cfg: newInstance(name.text, stmtPos(s), g),
    stateStmt: null,
    priorityStmt: null,
    versionSet: false,
    advertInt: null,
    authStmt: null,
    preemptStmts: [],
    vridGiven: false,
  };
  for (const k of body) {
    const h = HANDLERS[k.keyword.text];
    if (h) h(ctx, k, d);
    else if (INSTANCE_KEPT.has(k.keyword.text)) {
      ctx.diags.warn(stmtPos(k), `'${k.keyword.text}' is kept but uvs does not act on it yet`);
      d.cfg.kept.push(k);
    } else
      ctx.diags.error(
        stmtPos(k),
        unknownKeyword(k.keyword.text, "vrrp_instance", [...Object.keys(HANDLERS), ...INSTANCE_KEPT]),
      );
  }
  resolveFamily(ctx, d, g);
  resolveState(ctx, d);
  checkRequired(ctx, d);
  return d.cfg;
}

const SCRIPT_KEYS = ["script", "interval", "timeout", "weight", "rise", "fall", "user", "init_fail"];

function parseScript(ctx: VCtx, s: Stmt): VrrpScriptConfig | null {
  const name = oneArg(ctx, s, "a script name");
  const body = blockOf(ctx, s);
  if (!name || !body) return null;
  const c: VrrpScriptConfig = {
    name: name.text,
    pos: stmtPos(s),
    script: "",
    intervalMs: 1000,
    timeoutMs: 0,
    weight: 0,
    reverse: false,
    rise: 1,
    fall: 1,
    user: null,
    initFail: false,
  };
  for (const k of body) {
    const kw = k.keyword.text;
    if (kw === "script") c.script = commandStmt(ctx, k) ?? c.script;
    else if (kw === "interval") c.intervalMs = secondsStmt(ctx, k, 0.001, 86400) ?? c.intervalMs;
    else if (kw === "timeout") c.timeoutMs = secondsStmt(ctx, k, 0, 86400) ?? c.timeoutMs;
    else if (kw === "weight") {
      const w = weightArgs(ctx, k, [k.keyword, ...k.args]);
      if (w?.weight != null) Object.assign(c, { weight: w.weight, reverse: w.reverse });
    } else if (kw === "rise") c.rise = intStmt(ctx, k, 1, 1000000) ?? c.rise;
    else if (kw === "fall") c.fall = intStmt(ctx, k, 1, 1000000) ?? c.fall;
    else if (kw === "user") c.user = k.args.map((a) => a.text).join(" ") || null;
    else if (kw === "init_fail") c.initFail = true;
    else ctx.diags.error(stmtPos(k), unknownKeyword(kw, "vrrp_script", SCRIPT_KEYS));
  }
  if (!c.script) ctx.diags.error(c.pos, `vrrp_script '${c.name}' has no script`);
  return c;
}

function parseSyncGroup(ctx: VCtx, s: Stmt): VrrpSyncGroupConfig | null {
  const name = oneArg(ctx, s, "a group name");
  const body = blockOf(ctx, s);
  if (!name || !body) return null;
  const g: VrrpSyncGroupConfig = {
    name: name.text,
    pos: stmtPos(s),
    members: [],
    notify: { master: null, backup: null, fault: null, stop: null, any: null, masterRxLowerPri: null },
  };
  const notifyKeys: Record<string, keyof NotifyScripts> = {
    notify_master: "master",
    notify_backup: "backup",
    notify_fault: "fault",
    notify_stop: "stop",
    notify: "any",
  };
  for (const k of body) {
    const kw = k.keyword.text;
    if (kw === "group") {
      for (const m of blockOf(ctx, k) ?? []) g.members.push(m.keyword.text, ...m.args.map((a) => a.text));
    } else if (notifyKeys[kw]) g.notify[notifyKeys[kw]] = commandStmt(ctx, k);
    else if (kw === "smtp_alert" || kw === "global_tracking" || kw === "sync_group_tracking_weight")
      ctx.diags.warn(stmtPos(k), `'${kw}' is kept but uvs does not act on it yet`);
    else
      ctx.diags.error(
        stmtPos(k),
        unknownKeyword(kw, "vrrp_sync_group", ["group", ...Object.keys(notifyKeys)]),
      );
  }
  if (g.members.length === 0)
    ctx.diags.error(g.pos, `vrrp_sync_group '${g.name}' has no group { … } members`);
  return g;
}

/** Cross-block checks: unique names and VRIDs, known scripts, one sync group per instance. */
function crossCheck(ctx: VCtx, out: VrrpConfig): void {
  const byName = new Map<string, VrrpInstanceConfig>();
  const vrids = new Map<string, VrrpInstanceConfig>();
  for (const i of out.instances) {
    if (byName.has(i.name)) ctx.diags.error(i.pos, `duplicate vrrp_instance '${i.name}'`);
    byName.set(i.name, i);
    // keepalived: the same VRID twice on one interface and family is a startup error
    const key = `${i.interface ?? "unicast"}|${i.family}|${i.vrid}`;
    const prev = vrids.get(key);
    if (prev && i.vrid)
      ctx.diags.error(
        i.pos,
        `virtual_router_id ${i.vrid} is already used by '${prev.name}' on this interface`,
      );
    vrids.set(key, i);
    const scripts = new Set(out.scripts.map((s) => s.name));
    for (const t of i.trackScripts)
      if (!scripts.has(t.name)) ctx.diags.error(t.pos, `track_script '${t.name}' names no vrrp_script`);
  }
  for (const g of out.syncGroups) {
    for (const m of g.members) {
      const inst = byName.get(m);
      if (!inst) ctx.diags.error(g.pos, `vrrp_sync_group '${g.name}' names no vrrp_instance '${m}'`);
      else if (inst.syncGroup)
        ctx.diags.error(g.pos, `vrrp_instance '${m}' is already in sync group '${inst.syncGroup}'`);
      else {
        inst.syncGroup = g.name;
        // keepalived forces the members' tracking weights to 0: a failure faults the group
        for (const t of [...inst.trackInterfaces, ...inst.trackScripts]) t.weight = 0;
      }
    }
  }
}

/** The VRRP settings of a keepalived-syntax file's kept top-level blocks. */
export function vrrpConfig(blocks: readonly Stmt[], diags: Diagnostics): VrrpConfig {
  const ctx: VCtx = { diags };
  const globals = globalVrrp(
    ctx,
    blocks.filter((b) => b.keyword.text === "global_defs"),
  );
  const out: VrrpConfig = { globals, instances: [], scripts: [], syncGroups: [] };
  for (const s of blocks) {
    const kw = s.keyword.text;
    const v =
      kw === "vrrp_instance"
        ? parseInstance(ctx, s, globals)
        : kw === "vrrp_script"
          ? parseScript(ctx, s)
          : kw === "vrrp_sync_group"
            ? parseSyncGroup(ctx, s)
            : null;
    if (!v) continue;
    if (kw === "vrrp_instance") out.instances.push(v as VrrpInstanceConfig);
    else if (kw === "vrrp_script") out.scripts.push(v as VrrpScriptConfig);
    else out.syncGroups.push(v as VrrpSyncGroupConfig);
  }
  crossCheck(ctx, out);
  return out;
}
