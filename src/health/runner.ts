/**
 * The health runner: from a RulesConfig, one Probe per distinct check (shared across services),
 * real server aliveness (all of its checkers up), quorum per service, notify scripts, and the
 * overlay the daemon applies to its live table. `update` on every reload keeps the probes whose
 * check did not change, with their state (keepalived's compare functions).
 */
import { formatAddrPort } from "../model/addr.ts";
import { serviceKey } from "../model/service.ts";
import type { SnapHealth } from "../model/snapshot.ts";
import { type DestHealth, destHealth, type ServiceHealth, serviceHealth } from "../rules/health-settings.ts";
import type { RulesConfig } from "../rules/model.ts";
import type { Checker } from "./checker.ts";
import { type Clock, realClock } from "./clock.ts";
import { runNotify } from "./command.ts";
import { applyHealth, type DestStatus } from "./overlay.ts";
import { Probe, probeKey } from "./probe.ts";
import { quorumStep } from "./quorum.ts";
import { checkerFor } from "./registry.ts";
import type { CheckResult } from "./result.ts";

export type HealthLog = (
  level: "info" | "warning" | "error",
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export interface RunnerOptions {
  clock?: Clock;
  /** Called when the live table must change (a real server, weight or quorum flipped). */
  onChange: () => void;
  log: HealthLog;
  /** Checker by type (tests inject fakes); default the real ones. */
  checkerFor?: (type: string) => Checker | null;
  /** Delay before the first check (keepalived: 1 s), plus random(0..warmup). */
  bootstrapMs?: number;
  random?: () => number;
  /** Bound on notify / quorum scripts. */
  scriptTimeoutMs?: number;
}

interface DestEntry {
  service: string;
  server: string;
  health: DestHealth;
  probes: Probe[];
  /** The state last announced (notify/log); null before the first announcement (alpha). */
  announced: boolean | null;
  weight: number;
}

interface ServiceEntry {
  key: string;
  health: ServiceHealth;
  dests: DestEntry[];
  quorum: number;
  hysteresis: number;
  quorumUp: boolean | null;
  sorry: boolean;
}

const entryKey = (service: string, server: string) => `${service}|${server}`;

export class HealthRunner {
  private probes = new Map<string, Probe>();
  private services = new Map<string, ServiceEntry>();
  private dests = new Map<string, DestEntry>();
  private readonly lastWeights = new Map<string, number | null>();
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly opts: RunnerOptions) {
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
  }

  /** Adopt a configuration: start new checks, stop removed ones, keep unchanged ones. */
  update(config: RulesConfig): void {
    const probes = new Map<string, Probe>();
    const services = new Map<string, ServiceEntry>();
    const dests = new Map<string, DestEntry>();
    const fresh: Probe[] = [];
    for (const svc of config.services) {
      const key = serviceKey(svc.id);
      const prevSvc = this.services.get(key);
      const entry: ServiceEntry = {
        key,
        health: serviceHealth(svc),
        dests: [],
        quorum: svc.quorum,
        hysteresis: svc.hysteresis,
        quorumUp: prevSvc?.quorumUp ?? null,
        sorry: svc.sorryServer !== null,
      };
      for (const d of svc.dests) {
        const server = formatAddrPort(d.config.addr, d.config.port);
        const dh = destHealth(svc, d, []);
        const ps: Probe[] = [];
        for (const spec of dh.checks) {
          const pk = probeKey(spec);
          let p = probes.get(pk) ?? this.probes.get(pk);
          const check = (this.opts.checkerFor ?? checkerFor)(spec.type);
          if (!check) continue; // BFD_CHECK / FILE_CHECK: not run (the rules loader warned)
          if (!p) {
            p = new Probe(spec, check, this.clock, {
              result: (pr, mark, changed) => this.onResult(pr, mark, changed),
            });
            fresh.push(p);
          }
          probes.set(pk, p);
          ps.push(p);
        }
        const prev = this.dests.get(entryKey(key, server));
        const alpha = ps.some((p) => p.spec.timing.alpha);
        const de: DestEntry = {
          service: key,
          server,
          health: dh,
          probes: ps,
          announced: prev ? prev.announced : alpha ? null : true,
          weight: d.config.weight,
        };
        dests.set(entryKey(key, server), de);
        entry.dests.push(de);
      }
      services.set(key, entry);
    }
    for (const [k, p] of this.probes) if (!probes.has(k)) p.stop();
    this.probes = probes;
    this.services = services;
    this.dests = dests;
    for (const s of services.values())
      if (s.quorumUp === null) s.quorumUp = quorumStep(null, this.quorumInput(s));
    for (const p of fresh) p.start(this.opts.bootstrapMs ?? 1000, this.random);
  }

  private status(d: DestEntry): DestStatus {
    const alive = d.probes.every((p) => p.up);
    const dyn = d.probes.find((p) => p.weight !== null);
    return { alive, weight: dyn ? dyn.weight : null };
  }

  private quorumInput(s: ServiceEntry) {
    let live = 0;
    let total = 0;
    for (const d of s.dests) {
      const st = this.status(d);
      const w = st.weight ?? d.weight;
      total += d.weight;
      if (st.alive) live += w;
    }
    return { live, total, quorum: s.quorum, hysteresis: s.hysteresis };
  }

  private onResult(p: Probe, _mark: "up" | "down" | null, changed: boolean): void {
    if (changed) {
      const level = p.up ? "info" : "warning";
      this.opts.log(level, `health check ${p.up ? "up" : "down"}`, {
        checker: p.spec.type,
        result: p.last?.message,
      });
    }
    this.recompute();
  }

  /** Announce real server and quorum changes; ask for a live-table sync when anything moved. */
  private recompute(): void {
    let moved = false;
    for (const s of this.services.values()) {
      for (const d of s.dests) moved = this.announce(d) || moved;
      moved = this.requorum(s) || moved;
    }
    for (const d of this.dests.values()) {
      const w = this.status(d).weight;
      const key = entryKey(d.service, d.server);
      if (w !== (this.lastWeights.get(key) ?? null)) {
        this.lastWeights.set(key, w);
        moved = true;
      }
    }
    if (moved) this.opts.onChange();
  }

  private announce(d: DestEntry): boolean {
    const alive = this.status(d).alive;
    const allRun = d.probes.every((p) => p.state.hasRun);
    if (d.announced === alive || (d.announced === null && !allRun && !alive)) return false;
    const was = d.announced;
    d.announced = alive;
    // Down: the failing checker's result; up: the result that brought the last checker up.
    const why = alive
      ? (latest(d.probes)?.message ?? "")
      : (d.probes.find((p) => !p.up)?.last?.message ?? "");
    const inhibit = d.health.inhibit;
    const action = alive ? (inhibit ? "enabled" : "added") : inhibit ? "disabled (weight 0)" : "removed";
    this.opts.log(alive ? "info" : "warning", `real server ${d.server} ${alive ? "UP" : "DOWN"}: ${action}`, {
      service: d.service,
      reason: why,
    });
    const script = alive ? d.health.notifyUp : d.health.notifyDown;
    if (script) this.script(script);
    return was !== null || alive;
  }

  private requorum(s: ServiceEntry): boolean {
    const next = quorumStep(s.quorumUp, this.quorumInput(s));
    if (next === s.quorumUp) return false;
    s.quorumUp = next;
    const fields = s.sorry ? { service: s.key, sorry_server: next ? "off" : "on" } : { service: s.key };
    this.opts.log(next ? "info" : "warning", `quorum ${next ? "gained" : "lost"}`, fields);
    const script = next ? s.health.quorumUp : s.health.quorumDown;
    if (script) this.script(script);
    return true;
  }

  private script(line: string): void {
    runNotify(line, this.opts.scriptTimeoutMs ?? 30_000, (msg) => this.opts.log("warning", msg));
  }

  /** The live configuration for `config` under the current health. */
  overlay(config: RulesConfig): RulesConfig {
    return applyHealth(config, {
      dest: (service, server) => {
        const d = this.dests.get(entryKey(service, server));
        return d?.probes.length ? this.status(d) : undefined;
      },
      quorum: (service) => this.services.get(service)?.quorumUp ?? true,
    });
  }

  /** One entry per real server × checker, for the snapshot, `uvs health` and the TUI. */
  entries(): SnapHealth[] {
    const out: SnapHealth[] = [];
    for (const d of this.dests.values())
      for (const p of d.probes)
        out.push({
          service: d.service,
          server: d.server,
          checker: p.spec.type,
          state: p.up ? "up" : "down",
          since: p.since,
          last: p.last && {
            ok: p.last.ok,
            message: p.last.message,
            latencyMs: p.last.latencyMs,
            at: p.last.at,
          },
        });
    return out;
  }

  /** Stop every check; with omega, run notify_down and quorum_down as keepalived does at exit. */
  stop(): void {
    for (const p of this.probes.values()) p.stop();
    for (const s of this.services.values()) {
      if (!s.health.omega) continue;
      for (const d of s.dests) if (d.announced && d.health.notifyDown) this.script(d.health.notifyDown);
      if (s.quorumUp && s.health.quorumDown) this.script(s.health.quorumDown);
    }
    this.probes.clear();
  }

  /** How many distinct checks run (shared ones count once). */
  get probeCount(): number {
    return this.probes.size;
  }
}

/** The most recent result among `probes`. */
function latest(probes: readonly Probe[]): CheckResult | null {
  let best: CheckResult | null = null;
  for (const p of probes) if (p.last && (!best || p.last.at >= best.at)) best = p.last;
  return best;
}
