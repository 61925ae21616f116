/**
 * One running checker: its state machine, timer and last result. Identical checks (same type,
 * target and settings) are one Probe shared by every real server entry that asks for it.
 */
import type { CheckSpec } from "../rules/health-settings.ts";
import type { Checker } from "./checker.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import { initialState, type MachineConfig, type MachineState, step } from "./machine.ts";
import type { CheckResult } from "./result.ts";

/** The dedup key: everything that changes what the check does (not where it is written). */
export function probeKey(spec: CheckSpec): string {
  const { pos: _pos, ...rest } = spec;
  return JSON.stringify(rest, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v));
}

export interface ProbeEvents {
  /** After every result; `mark` is the state machine's ("up"/"down" or null). */
  result(p: Probe, mark: "up" | "down" | null, changed: boolean): void;
}

export class Probe {
  readonly key: string;
  state: MachineState;
  /** Epoch ms of the last state change (or of the start). */
  since: number;
  last: CheckResult | null = null;
  /** The misc_dynamic weight of the last result, if any. */
  weight: number | null = null;
  private timer: TimerHandle | null = null;
  private running = false;
  private stopped = false;
  private abort = new AbortController();
  private readonly cfg: MachineConfig;

  constructor(
    readonly spec: CheckSpec,
    private readonly check: Checker,
    private readonly clock: Clock,
    private readonly events: ProbeEvents,
  ) {
    this.key = probeKey(spec);
    const t = spec.timing;
    this.cfg = {
      retry: t.retry,
      delayLoop: t.delayLoop,
      delayBeforeRetry: t.delayBeforeRetry,
      urls: spec.http?.urls.length || 1,
      fastRecovery: spec.http?.fastRecovery,
    };
    this.state = initialState(this.cfg, t.alpha);
    this.since = clock.now();
  }

  get up(): boolean {
    return this.state.up;
  }

  /** First check after `bootstrap` + random(0..warmup), as keepalived staggers its checkers. */
  start(bootstrapMs: number, random: () => number): void {
    this.schedule(bootstrapMs + Math.floor(random() * this.spec.timing.warmup));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => void this.run(), Math.max(0, ms));
  }

  private async run(): Promise<void> {
    this.timer = null;
    if (this.running || this.stopped) return;
    this.running = true;
    const started = this.clock.now();
    let r: CheckResult;
    try {
      r = await this.check({ spec: this.spec, url: this.state.url, signal: this.abort.signal });
    } catch (e) {
      // Checkers do not throw; if one does, it is a failed check, not a dead runner.
      r = { ok: false, message: `${this.spec.type}: ${String(e)}`, latencyMs: 0, at: this.clock.now() };
    }
    this.running = false;
    if (this.stopped) return;
    this.record(r, started);
  }

  private record(r: CheckResult, started: number): void {
    const before = this.state.up;
    const firstRun = !this.state.hasRun;
    const s = step(this.cfg, this.state, r.ok);
    this.state = s.state;
    this.last = { ...r, at: this.clock.now() };
    if (r.ok && r.weight !== undefined) this.weight = r.weight;
    const changed = before !== this.state.up;
    if (changed) this.since = this.clock.now();
    // MISC_CHECK measures its period from the start of the last run, the others from its end.
    const elapsed = this.spec.type === "MISC_CHECK" ? this.clock.now() - started : 0;
    this.schedule(s.next - elapsed);
    this.events.result(this, s.mark, changed || (firstRun && s.mark !== null));
  }
}
