/**
 * One VRRP instance as a pure reducer: (state, event, now) → { state, actions }. RFC 5798 §6.4
 * with keepalived 2.2.7's observed behaviour (spec keepalived.md §3.2, §3.5, §3.6). No I/O and no
 * clock: the caller performs the actions (send adverts, arm timers, add VIPs, GARPs, notify
 * scripts) and feeds back timer expiries. Received adverts must have passed vrrp-check.ts first.
 */
import { type IpAddr, sameAddr } from "../model/addr.ts";
import type { VrrpInstanceConfig } from "./vrrp-config.ts";
import type { GarpSettings } from "./vrrp-globals.ts";
import type { VrrpAdvert, VrrpVersion } from "./vrrp-packet.ts";
import { effectivePriority, masterDownMs, skewMs } from "./vrrp-timing.ts";

export type VrrpStateName = "init" | "backup" | "master" | "fault" | "stopped";
export type TimerName = "master_down" | "advert" | "garp" | "garp_refresh";
export type NotifyKind = "master" | "backup" | "fault" | "stop" | "master_rx_lower_pri";

/** The instance settings the machine uses (from vrrp-config.ts via machineParams). */
export interface MachineParams {
  name: string;
  version: VrrpVersion;
  basePriority: number;
  advertIntCs: number;
  initialState: "MASTER" | "BACKUP";
  nopreempt: boolean;
  preemptDelayMs: number;
  downTimerAdverts: number;
  /** The address adverts are sent from: the equal-priority tie-break compares against it. */
  localAddr: IpAddr;
  garp: GarpSettings;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  /** A vrrp_sync_group member: it only *wants* master; vrrp-sync.ts decides (keepalived wantstate). */
  inSyncGroup: boolean;
}

export interface MachineState {
  readonly params: MachineParams;
  name: VrrpStateName;
  /** Priority adjustments of weighted trackers, by source. */
  weights: Record<string, number>;
  /** Sources holding the instance in FAULT (weight-0 trackers, interfaces, "sync"); sorted. */
  faults: string[];
  /** The master last accepted while backup. */
  master: { addr: IpAddr; priority: number } | null;
  /** Master_Adver_Interval (cs): v3 backups adopt the master's, otherwise our own. */
  masterIntervalCs: number;
  /** Armed timers: deadline (ms, caller's clock). */
  timers: Partial<Record<TimerName, number>>;
  /** preempt_delay: lower-priority adverts are accepted until then. */
  preemptAt: number | null;
  /** GARPs per VIP the pending "garp" timer sends. */
  garpPending: number;
  /** Sync-group member whose down timer expired: it wants MASTER. */
  wantMaster: boolean;
}

export type VrrpEvent =
  | { type: "start" }
  | { type: "advert"; advert: VrrpAdvert; src: IpAddr }
  | { type: "timer"; timer: TimerName }
  | { type: "shutdown" }
  | { type: "fault"; source: string }
  | { type: "recover"; source: string }
  | { type: "weight"; source: string; delta: number }
  | { type: "sync"; to: "master" | "backup" | "fault" };

export type VrrpAction =
  | { type: "send_advert"; priority: number }
  | { type: "schedule"; timer: TimerName; at: number }
  | { type: "cancel"; timer: TimerName }
  | { type: "become"; state: VrrpStateName; from: VrrpStateName; reason: string }
  | { type: "add_vips" }
  | { type: "remove_vips" }
  | { type: "send_garp"; perVip: number }
  | { type: "notify"; kind: NotifyKind }
  | { type: "log"; message: string };

export interface Step {
  state: MachineState;
  actions: VrrpAction[];
}

export function machineParams(c: VrrpInstanceConfig, localAddr: IpAddr): MachineParams {
  return {
    name: c.name,
    version: c.version,
    basePriority: c.priority,
    advertIntCs: c.advertIntCs,
    initialState: c.initialState,
    nopreempt: c.nopreempt,
    preemptDelayMs: c.preemptDelayMs,
    downTimerAdverts: c.downTimerAdverts,
    localAddr,
    garp: c.garp,
    lowerPrioNoAdvert: c.lowerPrioNoAdvert,
    higherPrioSendAdvert: c.higherPrioSendAdvert,
    inSyncGroup: c.syncGroup !== null,
  };
}

export function initialState(params: MachineParams): MachineState {
  return {
    params,
    name: "init",
    weights: {},
    faults: [],
    master: null,
    masterIntervalCs: params.advertIntCs,
    timers: {},
    preemptAt: null,
    garpPending: 0,
    wantMaster: false,
  };
}

export function priorityOf(s: MachineState): number {
  return effectivePriority(s.params.basePriority, s.weights);
}

const timing = (s: MachineState) => ({
  version: s.params.version,
  priority: priorityOf(s),
  intervalCs: s.masterIntervalCs,
  downTimerAdverts: s.params.downTimerAdverts,
});

/** A mutable copy for one step; the input state is never changed. */
class Builder {
  readonly s: MachineState;
  readonly actions: VrrpAction[] = [];
  constructor(
    prev: MachineState,
    readonly now: number,
  ) {
    this.s = { ...prev, weights: { ...prev.weights }, faults: [...prev.faults], timers: { ...prev.timers } };
  }
  act(a: VrrpAction): void {
    this.actions.push(a);
  }
  log(message: string): void {
    this.act({ type: "log", message: `(${this.s.params.name}) ${message}` });
  }
  arm(timer: TimerName, afterMs: number): void {
    this.s.timers[timer] = this.now + afterMs;
    this.act({ type: "schedule", timer, at: this.now + afterMs });
  }
  cancel(...timers: TimerName[]): void {
    for (const t of timers) {
      if (this.s.timers[t] === undefined) continue;
      delete this.s.timers[t];
      this.act({ type: "cancel", timer: t });
    }
  }
  become(state: VrrpStateName, reason: string): void {
    this.act({ type: "become", state, from: this.s.name, reason });
    this.s.name = state;
  }
  done(): Step {
    return { state: this.s, actions: this.actions };
  }
}

const ALL_TIMERS: TimerName[] = ["master_down", "advert", "garp", "garp_refresh"];

/** Master_Down_Timer expired (RFC 5798 §6.4.2), or forced by the sync group. */
function toMaster(b: Builder, reason: string): void {
  const { s } = b;
  const g = s.params.garp;
  b.cancel("master_down");
  s.masterIntervalCs = s.params.advertIntCs; // a new master reverts to its own interval (spec §3.4 rule 7)
  s.master = null;
  s.preemptAt = null;
  s.wantMaster = false;
  b.become("master", reason);
  b.act({ type: "send_advert", priority: priorityOf(s) }); // the advert first, so the old master lets go
  b.act({ type: "add_vips" });
  b.act({ type: "send_garp", perVip: g.minGarp ? 1 : g.masterRepeat }); // spec §3.6 first burst
  if (!g.minGarp && g.masterDelayMs > 0) {
    s.garpPending = g.masterRepeat;
    b.arm("garp", g.masterDelayMs); // second burst after garp_master_delay
  }
  if (g.masterRefreshMs > 0) b.arm("garp_refresh", g.masterRefreshMs);
  b.act({ type: "notify", kind: "master" });
  b.arm("advert", s.params.advertIntCs * 10);
}

/** Enter BACKUP and arm a full Master_Down_Interval (startup, leaving FAULT, a higher master). */
function toBackup(b: Builder, reason: string): void {
  const wasMaster = b.s.name === "master";
  b.cancel("advert", "garp", "garp_refresh");
  b.s.garpPending = 0;
  b.become("backup", reason);
  // keepalived removes leftover VIPs on startup too (spec §3.5 Startup)
  if (wasMaster || reason === "startup") b.act({ type: "remove_vips" });
  b.act({ type: "notify", kind: "backup" });
  b.arm("master_down", masterDownMs(timing(b.s)));
}

/** spec §3.2: FAULT stops adverts; from MASTER one priority-0 advert and the VIPs go. */
function toFault(b: Builder, reason: string): void {
  if (b.s.name === "master") {
    b.act({ type: "send_advert", priority: 0 });
    b.act({ type: "remove_vips" });
  }
  b.cancel(...ALL_TIMERS);
  b.s.wantMaster = false;
  b.s.master = null;
  b.become("fault", reason);
  b.act({ type: "notify", kind: "fault" });
}

function onStart(b: Builder): void {
  const { s } = b;
  if (s.name !== "init") {
    b.log("start ignored: already started");
    return;
  }
  if (s.faults.length > 0) {
    toFault(b, `tracking fault at startup (${s.faults.join(", ")})`);
    return;
  }
  // spec §3.5 Startup: the address owner (255, state MASTER) is master at once; every other
  // instance starts in BACKUP and waits a full Master_Down_Interval, even with state MASTER
  if (s.params.basePriority === 255 && s.params.initialState === "MASTER") {
    toMaster(b, "address owner");
    return;
  }
  toBackup(b, "startup");
}

/** Accept the master's advert: reset Master_Down_Timer, record it, v3: adopt its interval. */
function acceptAdvert(b: Builder, a: VrrpAdvert, src: IpAddr): void {
  const { s } = b;
  s.master = { addr: src, priority: a.priority };
  s.wantMaster = false;
  if (s.params.version === 3 && a.intervalCs !== s.masterIntervalCs) {
    b.log(
      `advertisement interval updated from ${s.masterIntervalCs * 10}ms to ${a.intervalCs * 10}ms by master`,
    );
    s.masterIntervalCs = a.intervalCs;
  }
  b.arm("master_down", masterDownMs(timing(s)));
}

/** preempt_delay (spec §3.5): the first lower-priority advert starts the delay; until it ends, accept. */
function withinPreemptDelay(b: Builder): boolean {
  const { s } = b;
  if (s.params.preemptDelayMs <= 0) return false;
  if (s.preemptAt === null) s.preemptAt = b.now + s.params.preemptDelayMs;
  return b.now < s.preemptAt;
}

function backupAdvert(b: Builder, a: VrrpAdvert, src: IpAddr): void {
  const { s } = b;
  const own = priorityOf(s);
  if (a.priority === 0) {
    // RFC 5798 §6.4.2: the master resigned: Master_Down_Timer = Skew_Time
    b.log(`priority 0 advert from ${src.text}: taking over after Skew_Time`);
    b.arm("master_down", skewMs(timing(s)));
    return;
  }
  if (a.priority >= own) s.preemptAt = null;
  if (s.params.nopreempt || a.priority >= own || withinPreemptDelay(b)) {
    acceptAdvert(b, a, src);
    return;
  }
  // lower priority and preemption allowed: discard, the timer runs on (keepalived preempts by timeout)
  b.log(`discarding advert from ${src.text} with lower priority ${a.priority} (ours ${own})`);
}

/** RFC 5798 §6.4.3: the tie-break compares the sender's address with ours (higher wins). */
function addrCompare(x: IpAddr, y: IpAddr): number {
  for (let i = 0; i < Math.max(x.words.length, y.words.length); i++) {
    const d = (x.words[i] ?? 0) - (y.words[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function masterAdvert(b: Builder, a: VrrpAdvert, src: IpAddr): void {
  const { s } = b;
  const own = priorityOf(s);
  const p = s.params;
  if (sameAddr(src, p.localAddr)) {
    b.log("ignoring our own advert");
    return;
  }
  if (a.priority === 0) {
    // RFC 5798 §6.4.3: answer a resigning peer with an advert at once
    b.act({ type: "send_advert", priority: own });
    b.arm("advert", p.advertIntCs * 10);
    return;
  }
  const cmp = a.priority - own || addrCompare(src, p.localAddr);
  if (cmp < 0) {
    // keepalived (not RFC): "forcing new election": extra advert + GARP bursts (spec §3.5, §3.6)
    b.log(
      `received advert from ${src.text} with lower priority ${a.priority}, ours ${own}, forcing new election`,
    );
    if (!p.lowerPrioNoAdvert) b.act({ type: "send_advert", priority: own });
    b.act({ type: "send_garp", perVip: p.garp.minGarp ? 1 : p.garp.lowerPrioRepeat });
    if (!p.garp.minGarp && p.garp.lowerPrioDelayMs > 0) {
      s.garpPending = p.garp.lowerPrioRepeat;
      b.arm("garp", p.garp.lowerPrioDelayMs);
    }
    b.act({ type: "notify", kind: "master_rx_lower_pri" });
    return;
  }
  // higher priority, or equal and a higher address: step down at once, silently by default
  if (p.higherPrioSendAdvert) b.act({ type: "send_advert", priority: own });
  s.master = { addr: src, priority: a.priority };
  if (p.version === 3) s.masterIntervalCs = a.intervalCs;
  toBackup(b, `higher priority advert from ${src.text} (${a.priority})`);
}

function onTimer(b: Builder, timer: TimerName): void {
  const { s } = b;
  const at = s.timers[timer];
  if (at === undefined || b.now < at) return; // stale or early expiry: the armed deadline rules
  delete s.timers[timer];
  const p = s.params;
  if (timer === "master_down") {
    if (!p.inSyncGroup) {
      toMaster(b, "Master_Down_Timer expired");
      return;
    }
    // keepalived: a member held in BACKUP while it wants MASTER re-checks after A + 1/256 s
    s.wantMaster = true;
    b.log("down timer expired: waiting for the sync group");
    b.arm("master_down", p.advertIntCs * 10 + 1000 / 256);
  } else if (timer === "advert") {
    b.act({ type: "send_advert", priority: priorityOf(s) });
    b.arm("advert", p.advertIntCs * 10);
  } else if (timer === "garp") {
    b.act({ type: "send_garp", perVip: s.garpPending });
    s.garpPending = 0;
  } else {
    b.act({ type: "send_garp", perVip: p.garp.masterRefreshRepeat });
    b.arm("garp_refresh", p.garp.masterRefreshMs);
  }
}

function onShutdown(b: Builder): void {
  if (b.s.name === "stopped") return;
  if (b.s.name === "master") {
    b.act({ type: "send_advert", priority: 0 }); // spec §3.5 Shutdown: one priority-0 advert
    b.act({ type: "remove_vips" });
  }
  b.cancel(...ALL_TIMERS);
  const started = b.s.name !== "init";
  b.become("stopped", "shutdown");
  if (started) b.act({ type: "notify", kind: "stop" });
}

function onFault(b: Builder, source: string): void {
  const { s } = b;
  if (!s.faults.includes(source)) s.faults = [...s.faults, source].sort();
  if (s.name === "backup" || s.name === "master") toFault(b, `fault: ${source}`);
}

function onRecover(b: Builder, source: string): void {
  const { s } = b;
  s.faults = s.faults.filter((f) => f !== source);
  // spec §3.2: leaving FAULT goes to BACKUP with a full down timer
  if (s.name === "fault" && s.faults.length === 0) toBackup(b, `recovered: ${source}`);
}

function onSync(b: Builder, to: "master" | "backup" | "fault"): void {
  const { s } = b;
  if (to === "fault") {
    onFault(b, "sync");
    return;
  }
  if (to === "backup" && s.faults.includes("sync")) {
    onRecover(b, "sync");
    return;
  }
  if (to === "master" && s.name === "backup") {
    toMaster(b, "sync group");
    return;
  }
  if (to === "backup" && s.name === "master") toBackup(b, "sync group");
}

/** The reducer. `now` is the caller's clock in milliseconds. */
export function step(state: MachineState, ev: VrrpEvent, now: number): Step {
  const b = new Builder(state, now);
  const s = b.s;
  switch (ev.type) {
    case "start":
      onStart(b);
      break;
    case "advert":
      // spec §3.4 rule 13 / §3.2: INIT and FAULT ignore every advert
      if (s.name === "backup") backupAdvert(b, ev.advert, ev.src);
      else if (s.name === "master") masterAdvert(b, ev.advert, ev.src);
      break;
    case "timer":
      onTimer(b, ev.timer);
      break;
    case "shutdown":
      onShutdown(b);
      break;
    case "fault":
      onFault(b, ev.source);
      break;
    case "recover":
      onRecover(b, ev.source);
      break;
    case "weight":
      // carried in the next advert; the owner's 255 is never adjusted (spec §3.1)
      if (ev.delta === 0) delete s.weights[ev.source];
      else s.weights[ev.source] = ev.delta;
      break;
    case "sync":
      onSync(b, ev.to);
      break;
  }
  return b.done();
}
