/**
 * The socket side of VRRP: runs every configured instance through the pure machine
 * (vrrp-machine.ts, vrrp-sync.ts for sync groups) and performs its actions — adverts on the wire,
 * timers, VIPs, gratuitous ARP, notify scripts — fed by received adverts, timer expiries and
 * trackers. One poll timer reads every instance's socket (non-blocking raw sockets).
 */
import { type IpAddr, ipv4FromU32 } from "../../model/addr.ts";
import { checkDatagram, type ReceiveSettings, receiveSettings } from "../vrrp-check.ts";
import type {
  VrrpConfig,
  VrrpInstanceConfig,
  VrrpScriptConfig,
  VrrpSyncGroupConfig,
} from "../vrrp-config.ts";
import type { VrrpDatagram } from "../vrrp-frame.ts";
import {
  initialState,
  type MachineState,
  machineParams,
  priorityOf,
  step,
  type TimerName,
  type VrrpAction,
  type VrrpEvent,
} from "../vrrp-machine.ts";
import { stepGroup } from "../vrrp-sync.ts";
import { primaryAddr } from "./net-info.ts";
import { notifyCommands, runNotify } from "./notify.ts";
import { LinkWatcher, ScriptRunner, trackEvent } from "./trackers.ts";
import type { VrrpInstanceView, VrrpTransition, VrrpView } from "./view.ts";
import { IpAddrVips, type VipDriver, vipTexts } from "./vips.ts";
import { VrrpWire } from "./wire.ts";

type Level = "debug" | "info" | "notice" | "warning" | "error";

export interface VrrpHooks {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
  /** The instance took or released its VIPs (after the addresses changed): re-sync listeners. */
  vipsChanged?(instance: string, held: boolean): void;
  /** The instance changed state (after the transition's log line; lvs_sync_daemon follows it). */
  stateChanged?(instance: string, from: string, to: string): void;
}

export interface VrrpRuntimeOptions {
  vips?: VipDriver;
  /** How often the sockets are read (ms). */
  pollMs?: number;
  /** How often tracked interfaces are read (ms). */
  linkPollMs?: number;
}

const TRANSITIONS_KEPT = 20;
const UNSPECIFIED = ipv4FromU32(0);

interface Entry {
  c: VrrpInstanceConfig;
  key: string;
  wire: VrrpWire | null;
  settings: ReceiveSettings;
  local: IpAddr | null;
  timers: Map<TimerName, ReturnType<typeof setTimeout>>;
  since: number;
  transitions: VrrpTransition[];
  drops: Record<string, number>;
  lastDropLog: Map<string, number>;
  cleanups: (() => void)[];
  vipQueue: Promise<void>;
  error: string | null;
}

/** A config's identity for reload: positions and kept statements do not make a change. */
function instanceKey(c: VrrpInstanceConfig, scripts: readonly VrrpScriptConfig[]): string {
  const used = scripts.filter((s) => c.trackScripts.some((t) => t.name === s.name));
  return JSON.stringify({ c, used }, (k, v) =>
    k === "pos"
      ? undefined
      : k === "kept"
        ? (v as { keyword: { text: string } }[]).map((s) => s.keyword.text)
        : v,
  );
}

export class VrrpRuntime {
  private readonly entries = new Map<string, Entry>();
  private readonly states = new Map<string, MachineState>();
  private groups = new Map<string, VrrpSyncGroupConfig>();
  private readonly groupState = new Map<string, string>();
  private readonly scripts = new Map<string, { key: string; runner: ScriptRunner }>();
  private readonly links: LinkWatcher;
  private readonly vips: VipDriver;
  private poll: ReturnType<typeof setInterval> | null = null;
  private readonly pollMs: number;
  private readonly pending = new Set<Promise<void>>();
  private config: VrrpConfig | null = null;

  constructor(
    private readonly hooks: VrrpHooks,
    opts: VrrpRuntimeOptions = {},
  ) {
    this.vips = opts.vips ?? new IpAddrVips();
    this.links = new LinkWatcher(opts.linkPollMs ?? 100);
    this.pollMs = opts.pollMs ?? 5;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Start new and changed instances, stop removed and changed ones, keep the rest running. */
  async update(cfg: VrrpConfig): Promise<void> {
    this.config = cfg;
    const want = new Map(cfg.instances.map((c) => [c.name, { c, key: instanceKey(c, cfg.scripts) }]));
    for (const [name, e] of this.entries) {
      const w = want.get(name);
      if (!w || w.key !== e.key) await this.stopInstance(name, w ? "configuration changed" : "removed");
    }
    this.groups = new Map(cfg.syncGroups.map((g) => [g.name, g]));
    this.syncScripts(cfg.scripts);
    for (const [name, w] of want) if (!this.entries.has(name)) this.startInstance(w.c, w.key);
    // the sockets are read only while there are instances: a daemon without VRRP pays nothing
    if (this.entries.size && !this.poll) this.poll = setInterval(() => this.readAll(), this.pollMs);
    if (!this.entries.size && this.poll) {
      clearInterval(this.poll);
      this.poll = null;
    }
  }

  private syncScripts(scripts: readonly VrrpScriptConfig[]): void {
    const want = new Map(scripts.map((s) => [s.name, { s, key: JSON.stringify({ ...s, pos: null }) }]));
    for (const [name, r] of this.scripts) {
      if (want.get(name)?.key === r.key) continue;
      r.runner.stop();
      this.scripts.delete(name);
    }
    for (const [name, w] of want) {
      if (this.scripts.has(name)) continue;
      const runner = new ScriptRunner(w.s);
      this.scripts.set(name, { key: w.key, runner });
      runner.start();
    }
  }

  // ---- instances ----

  private startInstance(c: VrrpInstanceConfig, key: string): void {
    const ifname = c.interface;
    const unicast = c.unicastPeers.length > 0;
    const local = (unicast ? c.unicastSrcIp : c.mcastSrcIp) ?? (ifname ? primaryAddr(ifname) : null);
    const e: Entry = {
      c,
      key,
      wire: null,
      settings: receiveSettings(c),
      local,
      timers: new Map(),
      since: Date.now(),
      transitions: [],
      drops: {},
      lastDropLog: new Map(),
      cleanups: [],
      vipQueue: Promise.resolve(),
      error: null,
    };
    this.entries.set(c.name, e);
    this.states.set(c.name, initialState(machineParams(c, local ?? UNSPECIFIED)));
    const initial: VrrpEvent[] = [];
    try {
      if (!ifname) throw new Error("uvs needs 'interface' (also for unicast) to bind its VRRP socket");
      if (!local) throw new Error(`interface ${ifname} has no IPv4 address to send adverts from`);
      e.wire = VrrpWire.open(c, ifname, local);
    } catch (err) {
      e.error = (err as Error).message;
      this.hooks.log("error", `VRRP instance ${c.name} cannot run: ${e.error}`, { instance: c.name });
      initial.push({ type: "fault", source: "socket" });
    }
    initial.push(...this.track(e));
    for (const ev of initial) this.dispatch(c.name, ev);
    this.dispatch(c.name, { type: "start" });
  }

  /** Watch the instance's trackers; returns the events for their current state. */
  private track(e: Entry): VrrpEvent[] {
    const c = e.c;
    const out: VrrpEvent[] = [];
    const follow = (source: string, weight: number, reverse: boolean, okNow: boolean) => {
      out.push(trackEvent(source, weight, reverse, okNow));
      return (ok: boolean) => {
        if (this.entries.get(c.name) === e) this.dispatch(c.name, trackEvent(source, weight, reverse, ok));
      };
    };
    const ifs = c.trackInterfaces.map((t) => ({ name: t.name, weight: t.weight ?? 0, reverse: t.reverse }));
    if (c.interface && !c.dontTrackPrimary && !ifs.some((t) => t.name === c.interface))
      ifs.unshift({ name: c.interface, weight: 0, reverse: false });
    for (const t of ifs) {
      const l: { fn: (ok: boolean) => void } = { fn: () => {} };
      const w = this.links.watch(t.name, (up) => l.fn(up));
      l.fn = follow(`if:${t.name}`, t.weight, t.reverse, w.up);
      e.cleanups.push(w.unwatch);
    }
    for (const t of c.trackScripts) {
      const r = this.scripts.get(t.name)?.runner;
      if (!r) continue;
      const weight = t.weight ?? r.c.weight;
      const reverse = t.weight !== null ? t.reverse : r.c.reverse;
      const fn = follow(`script:${t.name}`, weight, reverse, r.ok);
      r.listeners.add(fn);
      e.cleanups.push(() => r.listeners.delete(fn));
    }
    return out;
  }

  private async stopInstance(name: string, why: string): Promise<void> {
    const e = this.entries.get(name);
    if (!e) return;
    this.hooks.log("info", `VRRP instance ${name} stopping`, { instance: name, reason: why });
    this.dispatch(name, { type: "shutdown" });
    for (const t of e.timers.values()) clearTimeout(t);
    e.timers.clear();
    for (const f of e.cleanups) f();
    e.wire?.close();
    this.entries.delete(name);
    this.states.delete(name);
    await e.vipQueue;
  }

  /** SIGTERM: masters send priority 0 and release their VIPs; notify_stop scripts run. */
  async stop(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    for (const name of [...this.entries.keys()]) await this.stopInstance(name, "shutdown");
    for (const r of this.scripts.values()) r.runner.stop();
    this.scripts.clear();
    this.links.stop();
    await Promise.race([Promise.all([...this.pending]), Bun.sleep(5000)]);
    this.vips.close();
  }

  // ---- the machine ----

  private dispatch(name: string, ev: VrrpEvent): void {
    const e = this.entries.get(name);
    const prev = this.states.get(name);
    if (!e || !prev) return;
    const now = performance.now();
    const g = e.c.syncGroup ? this.groups.get(e.c.syncGroup) : undefined;
    let tagged: { instance: string; action: VrrpAction }[];
    if (g) {
      const members = g.members.filter((m) => this.states.has(m));
      const sub = Object.fromEntries(members.map((m) => [m, this.states.get(m) as MachineState]));
      const r = stepGroup(sub, members, name, ev, now);
      for (const [m, s] of Object.entries(r.states)) this.states.set(m, s);
      tagged = r.actions;
    } else {
      const r = step(prev, ev, now);
      this.states.set(name, r.state);
      tagged = r.actions.map((action) => ({ instance: name, action }));
    }
    for (const t of tagged) this.execute(t.instance, t.action);
  }

  private execute(name: string, a: VrrpAction): void {
    const e = this.entries.get(name);
    const s = this.states.get(name);
    if (!e || !s) return;
    switch (a.type) {
      case "send_advert":
        e.wire?.send(a.priority);
        break;
      case "schedule":
        this.arm(e, a.timer, a.at);
        break;
      case "cancel": {
        const t = e.timers.get(a.timer);
        if (t) clearTimeout(t);
        e.timers.delete(a.timer);
        break;
      }
      case "become":
        this.transition(e, s, a.from, a.state, a.reason);
        break;
      case "add_vips":
        this.queueVips(e, true);
        break;
      case "remove_vips":
        this.queueVips(e, false);
        break;
      case "send_garp":
        e.vipQueue = e.vipQueue.then(async () => {
          await this.vips.announce(e.c, a.perVip);
        });
        break;
      case "notify":
        this.notify(e, s, a.kind);
        break;
      case "log":
        this.hooks.log(a.message.includes("our own advert") ? "debug" : "info", a.message, {
          instance: name,
        });
        break;
    }
  }

  /** One real timer per armed deadline; an early wake-up (ms rounding) waits for the rest. */
  private arm(e: Entry, timer: TimerName, at: number): void {
    const old = e.timers.get(timer);
    if (old) clearTimeout(old);
    const fire = () => {
      const s = this.states.get(e.c.name);
      if (this.entries.get(e.c.name) !== e || s?.timers[timer] !== at) return;
      const left = at - performance.now();
      if (left > 0) {
        e.timers.set(timer, setTimeout(fire, Math.ceil(left)));
        return;
      }
      e.timers.delete(timer);
      this.dispatch(e.c.name, { type: "timer", timer });
    };
    e.timers.set(timer, setTimeout(fire, Math.max(0, Math.ceil(at - performance.now()))));
  }

  private transition(e: Entry, s: MachineState, from: string, to: string, reason: string): void {
    e.since = Date.now();
    const master = to === "master" ? (e.local?.text ?? null) : (s.master?.addr.text ?? null);
    const t: VrrpTransition = { time: e.since, from, to, reason, priority: priorityOf(s), master };
    e.transitions.push(t);
    if (e.transitions.length > TRANSITIONS_KEPT) e.transitions.shift();
    this.hooks.log(to === "fault" ? "warning" : "notice", `VRRP ${e.c.name}: ${from} -> ${to}`, {
      instance: e.c.name,
      priority: t.priority,
      master: master ?? "-",
      reason,
    });
    this.hooks.stateChanged?.(e.c.name, from, to);
  }

  private queueVips(e: Entry, take: boolean): void {
    e.vipQueue = e.vipQueue.then(async () => {
      const problems = take ? await this.vips.take(e.c) : await this.vips.release(e.c);
      for (const p of problems)
        this.hooks.log("error", `VRRP ${e.c.name}: cannot ${take ? "add" : "remove"} a VIP: ${p}`, {
          instance: e.c.name,
        });
      this.hooks.vipsChanged?.(e.c.name, take);
    });
  }

  private notify(e: Entry, s: MachineState, kind: Parameters<typeof notifyCommands>[1]): void {
    const cmds = notifyCommands(e.c.notify, kind, "INSTANCE", e.c.name, priorityOf(s));
    const g = e.c.syncGroup ? this.groups.get(e.c.syncGroup) : undefined;
    // a sync group's scripts run once per group change, not once per member
    if (g && kind !== "master_rx_lower_pri" && this.groupState.get(g.name) !== kind) {
      this.groupState.set(g.name, kind);
      cmds.push(...notifyCommands(g.notify, kind, "GROUP", g.name, priorityOf(s)));
    }
    if (cmds.length === 0) return;
    const p = runNotify(cmds, (msg, fields) =>
      this.hooks.log("warning", `VRRP ${e.c.name}: ${msg}`, { instance: e.c.name, ...fields }),
    );
    this.pending.add(p);
    void p.then(() => this.pending.delete(p));
  }

  // ---- receive ----

  private readAll(): void {
    for (const e of [...this.entries.values()]) {
      if (!e.wire) continue;
      for (const d of e.wire.drain()) {
        if (this.entries.get(e.c.name) !== e) break;
        this.received(e, d);
      }
    }
  }

  private received(e: Entry, d: VrrpDatagram): void {
    const s = this.states.get(e.c.name);
    if (!s) return;
    const r = checkDatagram(e.settings, d, s.master?.addr ?? null);
    if (!r.ok) {
      if (r.reason === "vrid") return; // another router's instance on the same link
      e.drops[r.reason] = (e.drops[r.reason] ?? 0) + 1;
      const last = e.lastDropLog.get(r.reason) ?? -Infinity;
      if (Date.now() - last > 10_000) {
        e.lastDropLog.set(r.reason, Date.now());
        this.hooks.log("warning", `VRRP ${e.c.name}: advert from ${d.src.text} dropped: ${r.detail}`, {
          instance: e.c.name,
          check: r.reason,
          count: e.drops[r.reason],
        });
      }
      return;
    }
    this.dispatch(e.c.name, { type: "advert", advert: r.advert, src: r.src });
  }

  // ---- view ----

  view(): VrrpView {
    const instances: VrrpInstanceView[] = [];
    for (const e of this.entries.values()) {
      const s = this.states.get(e.c.name);
      if (!s) continue;
      const c = e.c;
      const master = s.name === "master" ? (e.local?.text ?? null) : (s.master?.addr.text ?? null);
      instances.push({
        name: c.name,
        state: s.name,
        vrid: c.vrid,
        version: c.version,
        priority: priorityOf(s),
        base_priority: c.priority,
        interface: c.interface ?? "",
        address: e.local?.text ?? null,
        mode: c.unicastPeers.length ? "unicast" : "multicast",
        peers: c.unicastPeers.map((p) => p.addr.text),
        vips: vipTexts(c),
        master,
        master_priority: s.name === "master" ? priorityOf(s) : (s.master?.priority ?? null),
        since: e.since,
        sync_group: c.syncGroup,
        faults: s.faults,
        adverts_sent: e.wire?.counters.sent ?? 0,
        adverts_received: e.wire?.counters.received ?? 0,
        drops: { ...e.drops },
        error: e.error,
        transitions: [...e.transitions],
      });
    }
    return { instances };
  }

  /** The instance's state ("init", "backup", "master", "fault"), or null when it is not running. */
  stateOf(name: string): string | null {
    return this.states.get(name)?.name ?? null;
  }

  /** The configuration last given to update() (for reload diagnostics). */
  get current(): VrrpConfig | null {
    return this.config;
  }
}
