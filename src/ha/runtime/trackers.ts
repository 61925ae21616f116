/**
 * vrrp_script and track_interface: results in, machine events out. The rise/fall logic and the
 * weight rules are pure (keepalived semantics, spec keepalived.md §3.1); the runners hold timers.
 * - weight 0: failing → `fault` (source `script:NAME` / `if:NAME`), OK again → `recover`;
 * - weight > 0: added while OK; weight < 0: added (subtracted) while failing;
 * - `reverse` swaps OK and failing.
 */
import type { VrrpScriptConfig } from "../vrrp-config.ts";
import type { VrrpEvent } from "../vrrp-machine.ts";
import { linkUp } from "./net-info.ts";

export interface RiseFall {
  ok: boolean;
  /** Consecutive results against the current status. */
  streak: number;
}

/** One result through rise/fall: `fall` failures to go down, `rise` successes to come back. */
export function riseFall(s: RiseFall, result: boolean, rise: number, fall: number): RiseFall {
  if (result === s.ok) return { ok: s.ok, streak: 0 };
  const streak = s.streak + 1;
  return streak >= (s.ok ? fall : rise) ? { ok: result, streak: 0 } : { ok: s.ok, streak };
}

/** The machine event for a tracked source being OK or not. */
export function trackEvent(source: string, weight: number, reverse: boolean, ok: boolean): VrrpEvent {
  const up = reverse ? !ok : ok;
  if (weight === 0) return up ? { type: "recover", source } : { type: "fault", source };
  const delta = weight > 0 ? (up ? weight : 0) : up ? 0 : weight;
  return { type: "weight", source, delta };
}

export type TrackListener = (ok: boolean) => void;

/** Runs one vrrp_script every interval (timeout kills it); tells listeners when rise/fall flips. */
export class ScriptRunner {
  private state: RiseFall;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private proc: ReturnType<typeof Bun.spawn> | null = null;
  private stopped = false;
  readonly listeners = new Set<TrackListener>();
  lastExit: number | null = null;

  constructor(readonly c: VrrpScriptConfig) {
    // keepalived: a script counts as OK until it fails, unless init_fail
    this.state = { ok: !c.initFail, streak: 0 };
  }

  get ok(): boolean {
    return this.state.ok;
  }

  start(): void {
    this.timer = setTimeout(() => void this.runOnce(), 0);
  }

  private async runOnce(): Promise<void> {
    if (this.stopped) return;
    const timeout = this.c.timeoutMs || this.c.intervalMs;
    let ok = false;
    try {
      this.proc = Bun.spawn(["/bin/sh", "-c", this.c.script], {
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
      });
      const kill = setTimeout(() => this.proc?.kill("SIGKILL"), timeout);
      this.lastExit = await this.proc.exited;
      clearTimeout(kill);
      ok = this.lastExit === 0;
    } catch {
      ok = false;
    }
    this.proc = null;
    if (this.stopped) return;
    const was = this.state.ok;
    this.state = riseFall(this.state, ok, this.c.rise, this.c.fall);
    if (this.state.ok !== was) for (const l of this.listeners) l(this.state.ok);
    this.timer = setTimeout(() => void this.runOnce(), this.c.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.proc?.kill("SIGKILL");
  }
}

/** Polls /sys/class/net/IF/operstate of every watched interface (keepalived uses netlink). */
export class LinkWatcher {
  private readonly watched = new Map<string, { up: boolean; listeners: Set<TrackListener> }>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly periodMs = 100,
    private readonly isUp: (ifname: string) => boolean = linkUp,
  ) {}

  /** Watch `ifname`; returns its current state and a function that stops watching. */
  watch(ifname: string, l: TrackListener): { up: boolean; unwatch: () => void } {
    this.timer ??= setInterval(() => this.poll(), this.periodMs);
    let w = this.watched.get(ifname);
    if (!w) {
      w = { up: this.isUp(ifname), listeners: new Set() };
      this.watched.set(ifname, w);
    }
    w.listeners.add(l);
    const entry = w;
    return {
      up: w.up,
      unwatch: () => {
        entry.listeners.delete(l);
        if (entry.listeners.size === 0) this.watched.delete(ifname);
      },
    };
  }

  poll(): void {
    for (const [name, w] of this.watched) {
      const up = this.isUp(name);
      if (up === w.up) continue;
      w.up = up;
      for (const l of [...w.listeners]) l(up);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watched.clear();
  }
}
