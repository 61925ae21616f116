/**
 * `uvs run`: the director, its rules file (watched, hot-reloaded by diffing), the proxy data
 * plane, the control socket, metrics, signals and systemd notification, wired together.
 */
import { existsSync, readFileSync } from "node:fs";
import type { UnixSocketListener } from "bun";
import { checkOp } from "../control/op-check.ts";
import type { DaemonEvent, Request } from "../control/protocol.ts";
import { anotherDaemon, controlAnswers, startControlServer } from "../control/server.ts";
import { PacketPlane } from "../dataplane/packet/engine/plane.ts";
import { packetMetrics, packetRefusal } from "../dataplane/packet/engine/support.ts";
import { type ProxyLogEvent, ProxyPlane } from "../dataplane/proxy/plane.ts";
import type { DirectorOp, OpResult } from "../director/api.ts";
import { Director } from "../director/director.ts";
import { directorFromSnapshot, directorToSnapshot } from "../director/snapshot-io.ts";
import { PlaneVips, serviceVips4 } from "../ha/runtime/plane-vips.ts";
import { VrrpRuntime } from "../ha/runtime/runtime.ts";
import type { VrrpConfig } from "../ha/vrrp-config.ts";
import { HealthRunner } from "../health/index.ts";
import type { DestConfig } from "../model/dest.ts";
import { type ServiceId, serviceKey } from "../model/service.ts";
import type { Snapshot } from "../model/snapshot.ts";
import { type LoadResult, loadRules, memoryReader, parseRules } from "../rules/load.ts";
import { type Diagnostic, formatDiagnostic, type RulesConfig } from "../rules/model.ts";
import { planReload } from "../rules/plan.ts";
import { writeBackFiles } from "../rules/write-back.ts";
import { SyncDaemons } from "../sync/daemon.ts";
import { type LvsSyncd, LvsSyncFollower } from "../sync/lvs-syncd.ts";
import { sdNotify, watchdogIntervalMs } from "../sys/sd-notify.ts";
import { writeFileAtomic } from "../util/atomic-write.ts";
import { stringifyJsonBig } from "../util/json-big.ts";
import { plural } from "../util/plural.ts";
import type { Logger } from "./log.ts";
import { type DaemonCounters, proxyMetrics, renderMetrics } from "./metrics.ts";
import { rulesChecks } from "./rules-checks.ts";
import { type WatchTargets, watchRules } from "./watch.ts";

const EVENT_LOG_SIZE = 1000;

function readFileIfAny(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

export interface DaemonOptions {
  rules: string;
  control: string;
  metrics?: { host: string; port: number };
  /** How long SIGTERM waits for connections to finish. */
  drainMs: number;
  /** Watch the rules file and reload on change (default); otherwise only SIGHUP / `uvs reload`. */
  watch?: boolean;
  log: Logger;
  /** "proxy" (default) or "packet": raw frames on `interfaces` (docs/packet-plane.md). */
  dataplane?: "proxy" | "packet";
  interfaces?: string[];
  /** Packet plane: VIPs at virtual MACs (default) or the interfaces' own (`--vip-mac`). */
  vipMac?: "virtual" | "real";
  /** Proxy plane: its TCP engine (`--proxy-engine`); default UVS_PROXY_ENGINE, else bun. */
  proxyEngine?: "bun" | "epoll";
  /** Proxy plane, epoll engine: relay threads (`--proxy-threads`); default UVS_PROXY_THREADS, else the CPUs. */
  proxyThreads?: number;
}

/** What a rules file that does not exist yet stands for: an empty table, keepalived syntax. */
function emptyRules(file: string): RulesConfig {
  return { dialect: "keepalived", file, files: [file], services: [], blocks: [] };
}

/** The proxy plane forwards like NAT; DR and TUN need whole frames (the packet plane). */
function proxyRefusal(forward: string, where: string): string | null {
  if (forward === "masq") return null;
  const how =
    forward === "tunnel"
      ? "tunnelling (-i / lb_kind TUN)"
      : "direct routing (-g / lb_kind DR, ipvsadm's default)";
  return `${where} uses ${how}; the proxy data plane forwards as NAT only (-m / lb_kind NAT). DR and TUN need the packet data plane (uvs run --dataplane packet --interface IF, as root)`;
}

/**
 * What the live table should be, given the intended configuration: health checks (issue 4) take
 * failed real servers out or set them to weight 0 here (HealthRunner.overlay).
 */
export type LiveOverlay = (intended: RulesConfig) => RulesConfig;

/**
 * Two tables: `intended` is what the rules file and CLI changes say (config only, no traffic); it
 * is what write-back writes and what the next reload is diffed against. `director` is the live
 * table, kept equal to `overlay(intended)` by diffing after every change.
 */
export class Daemon {
  readonly director = new Director();
  readonly intended = new Director();
  overlay: LiveOverlay = (c) => c;
  readonly counters: Omit<DaemonCounters, "connectFailures"> = {
    reloads: 0,
    reloadErrors: 0,
    controlErrors: 0,
  };
  plane!: ProxyPlane | PacketPlane;
  /** Health checks: their states make `overlay`; never written back to the rules file. */
  health!: HealthRunner;
  /** Connection sync (--start-daemon master|backup) of the live table. */
  sync!: SyncDaemons;
  /** VRRP instances of the rules file (vrrp_instance blocks); taking a VIP re-syncs listeners. */
  vrrp!: VrrpRuntime;
  /** The running rules' VRRP configuration (which addresses are VIPs of which instance). */
  private vrrpConfig?: VrrpConfig;
  /** Packet plane: VRRP VIPs are ARP answers of the plane, not interface addresses. */
  private planeVips: PlaneVips | null = null;
  /** global_defs lvs_sync_daemon: the sync daemon follows one VRRP instance's state. */
  private lvsSync!: LvsSyncFollower;
  private config: RulesConfig;
  /** Every file of the running configuration (includes too), as write-back needs them. */
  private texts = new Map<string, string>();
  /** The rules file, its includes and the include patterns' folders, as last read. */
  private watchTargets: WatchTargets = { files: [], dirs: [] };
  /** The empty-file warning was given for the current emptiness. */
  private warnedEmpty = false;
  /** Warnings of the running configuration (messages): a CLI change logs only the ones it adds. */
  private warned = new Set<string>();
  private readonly started = performance.now();
  private control?: UnixSocketListener<unknown>;
  private metricsServer?: ReturnType<typeof Bun.serve>;
  private timers: ReturnType<typeof setInterval>[] = [];
  private stopWatch?: () => void;
  private reloading: Promise<unknown> = Promise.resolve();

  private constructor(readonly opts: DaemonOptions) {
    this.config = emptyRules(opts.rules);
  }

  /** The last EVENT_LOG_SIZE log events, for the TUI's event screen (control method `events`). */
  private readonly events: DaemonEvent[] = [];
  private eventSeq = 0;

  private log(level: Parameters<Logger["log"]>[0], msg: string, fields?: Record<string, unknown>): void {
    this.opts.log.log(level, msg, fields);
    this.events.push({ seq: ++this.eventSeq, time: Date.now(), level, msg, ...(fields ? { fields } : {}) });
    if (this.events.length > EVENT_LOG_SIZE) this.events.splice(0, this.events.length - EVENT_LOG_SIZE);
  }

  /** Load the rules, open listeners and the control socket; throws when the rules cannot run. */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    // Before any listener or VRRP socket: a second daemon must not disturb the running one.
    if (await controlAnswers(opts.control)) throw anotherDaemon(opts.control);
    const d = new Daemon(opts);
    d.plane =
      opts.dataplane === "packet"
        ? await PacketPlane.start({
            interfaces: opts.interfaces ?? [],
            ...(opts.vipMac ? { vipMac: opts.vipMac } : {}),
            log: (level, msg, fields) => d.log(level, msg, fields),
          })
        : new ProxyPlane(d.director, {
            log: (e) => d.planeEvent(e),
            ...(opts.proxyEngine ? { tcpEngine: opts.proxyEngine } : {}),
            ...(opts.proxyThreads !== undefined ? { relayThreads: opts.proxyThreads } : {}),
          });
    // On the packet plane the worker runs the sync daemons on its own director (docs/sync.md).
    d.sync = new SyncDaemons(d.director, { log: (level, msg, fields) => d.log(level, msg, fields) });
    d.startHealth();
    if (d.plane instanceof PacketPlane) d.planeVips = new PlaneVips(d.plane);
    d.lvsSync = new LvsSyncFollower(
      (op) => d.applyLive(op),
      (level, msg, fields) => d.log(level, msg, fields),
    );
    d.vrrp = new VrrpRuntime(
      {
        log: (level, msg, fields) => d.log(level, msg, fields),
        vipsChanged: () => void d.syncLive(),
        stateChanged: (name, _from, to) => {
          if (name === d.lvsSync.instance) void d.lvsSync.follow(to);
        },
      },
      d.planeVips ? { vips: d.planeVips } : {},
    );
    const first = await d.reload(false);
    if (!first.applied && first.errors.length) {
      await d.plane.close();
      // Each error has had its own log line (reload); one line each keeps journald's levels right.
      throw new Error(
        `rules file ${opts.rules} cannot be used: ${plural(first.errors.length, "error")}, logged above`,
      );
    }
    d.control = (await startControlServer(opts.control, (req) =>
      d.handle(req),
    )) as UnixSocketListener<unknown>;
    if (opts.metrics) d.startMetrics(opts.metrics);
    d.timers.push(setInterval(() => d.director.advance(performance.now()), 1000));
    const wd = watchdogIntervalMs();
    if (wd) d.timers.push(setInterval(() => sdNotify("WATCHDOG=1"), wd / 2));
    if (opts.watch !== false)
      d.stopWatch = watchRules(
        () => d.watchTargets,
        () => void d.reloadFromWatch(),
      );
    d.log("info", "uvs daemon ready", {
      rules: opts.rules,
      control: opts.control,
      services: d.director.services.size,
    });
    sdNotify(`READY=1\nSTATUS=serving ${d.director.services.size} virtual services\nMAINPID=${process.pid}`);
    return d;
  }

  /** Health flips change only the live table: overlay(intended), synced on every flip. */
  private startHealth(): void {
    this.health = new HealthRunner({
      onChange: () => void this.syncLive(),
      log: (level, msg, fields) => this.log(level, msg, fields),
    });
    this.overlay = (c) => this.health.overlay(c);
  }

  private planeEvent(e: ProxyLogEvent): void {
    switch (e.type) {
      case "listening":
        this.log("info", "listening", { endpoint: e.endpoint });
        break;
      case "listener-closed":
        this.log("info", "listener closed", { endpoint: e.endpoint });
        break;
      case "listen-error":
        if (this.vipHeldElsewhere(e.endpoint))
          this.log("info", "not listening until this director is VRRP master for the address", {
            endpoint: e.endpoint,
          });
        else this.log("error", "cannot listen", { endpoint: e.endpoint, error: e.error });
        break;
      case "connect-failed":
        this.log("warning", "real server connect failed", {
          service: e.service,
          dest: e.dest,
          client: e.client,
          reason: e.reason,
        });
        break;
      case "warning":
        this.log("warning", e.message);
        break;
    }
  }

  /** A listener's address is a VIP of a VRRP instance that is not master here (yet). */
  private vipHeldElsewhere(endpoint: string): boolean {
    const m = /^[a-z]+:\[?(.*?)\]?:\d+$/.exec(endpoint);
    if (!m || !this.vrrpConfig) return false;
    const states = new Map(this.vrrp.view().instances.map((i) => [i.name, i.state]));
    return this.vrrpConfig.instances.some(
      (i) => states.get(i.name) !== "master" && i.vips.some((v) => v.addr.text === m[1]),
    );
  }

  /** A watched file or folder changed: reload when the rules, includes and all, read differently. */
  private async reloadFromWatch(): Promise<void> {
    if (!existsSync(this.opts.rules)) return;
    const now = loadRules(this.opts.rules);
    if (sameTexts(now.texts, this.texts)) return; // our own write-back, or no real change
    // An empty file is what a tool writing in place (truncate, then write) leaves for a moment,
    // and it parses as "no services": from the watcher it is not applied over a running table.
    // SIGHUP or `uvs reload` apply it when an empty table is what the operator means.
    if (this.intended.services.size > 0 && (now.texts.get(this.opts.rules) ?? "").trim() === "") {
      if (!this.warnedEmpty)
        this.log(
          "warning",
          "the rules file is empty: not applied by the watcher (SIGHUP or uvs reload apply it)",
          {
            rules: this.opts.rules,
          },
        );
      this.warnedEmpty = true;
      return;
    }
    this.warnedEmpty = false;
    // The read that saw the change is the one applied: a later change fires the watcher again.
    await this.reload(false, "watch", now);
  }

  /**
   * Re-read the rules file (or take the read `read` made) and apply the difference, or only plan
   * it. One reload at a time.
   */
  reload(
    dryRun: boolean,
    cause = "start",
    read?: LoadResult,
  ): Promise<{ applied: boolean; lines: string[]; errors: string[]; steps: number }> {
    const run = this.reloading.then(() => this.reloadNow(dryRun, cause, read));
    this.reloading = run.catch(() => {});
    return run;
  }

  private async reloadNow(dryRun: boolean, cause: string, read?: LoadResult) {
    const missing = !existsSync(this.opts.rules);
    // Only at start does a missing file mean an empty table. Later it is a file moved away or
    // being replaced: reading it as "no services" would flush the director.
    if (missing && cause !== "start") {
      const msg = `rules file ${this.opts.rules} does not exist: the running configuration stays`;
      if (!dryRun) {
        this.counters.reloadErrors++;
        this.log("error", msg, { cause });
      }
      return { applied: false, lines: [], errors: [msg], steps: 0 };
    }
    const loaded = missing
      ? {
          config: emptyRules(this.opts.rules),
          diagnostics: [],
          texts: new Map([[this.opts.rules, ""]]),
          dirs: [],
        }
      : (read ?? loadRules(this.opts.rules));
    // Follow what this read touched, accepted or not: fixing a new include must be seen too.
    if (!dryRun) this.watchTargets = { files: [...loaded.texts.keys()], dirs: loaded.dirs };
    if (missing)
      this.log("warning", "rules file does not exist yet; starting with an empty table", {
        rules: this.opts.rules,
      });
    const errors = loaded.diagnostics.filter((x) => x.severity === "error").map(formatDiagnostic);
    const warnings = loaded.diagnostics.filter((x) => x.severity === "warning");
    if (!dryRun) for (const w of warnings) this.log("warning", formatDiagnostic(w));
    if (!dryRun && loaded.config) this.warned = new Set(warnings.map((w) => w.message));
    const config = loaded.config;
    // VRRP, lvs_sync_daemon and checker settings: the same checks as uvs check runs.
    const deep = config ? rulesChecks(config) : null;
    for (const x of deep?.diagnostics ?? [])
      if (x.severity === "error") errors.push(formatDiagnostic(x));
      else if (!dryRun) this.log("warning", formatDiagnostic(x));
    const vrrp = deep?.vrrp ?? null;
    const lvsSyncd = deep?.lvsSyncd ?? null;
    if (config)
      for (const s of config.services)
        for (const dr of s.dests) {
          const why = this.refusal(
            s.id,
            dr.config,
            `${dr.pos.file}:${dr.pos.line}:${dr.pos.col}: real server ${dr.config.addr.text}:${dr.config.port}`,
          );
          if (why) errors.push(why);
        }
    if (!config || errors.length) {
      if (!dryRun) {
        this.counters.reloadErrors++;
        for (const e of errors) this.log("error", e);
        this.log("error", "rules file refused; the running configuration stays", {
          rules: this.opts.rules,
          cause,
        });
      }
      return { applied: false, lines: [], errors, steps: 0 };
    }
    const plan = planReload(this.intended, config);
    if (dryRun) return { applied: false, lines: plan.lines, errors: [], steps: plan.ops.length };
    // Try the plan on a copy first: nothing changes unless every step is accepted.
    const scratch = directorFromSnapshot(directorToSnapshot(this.intended));
    for (const op of plan.ops) {
      const r = scratch.apply(op);
      if (!r.ok) {
        const msg = `reload step ${op.op} refused (${r.errno}); the running configuration stays`;
        this.counters.reloadErrors++;
        this.log("error", msg);
        return { applied: false, lines: plan.lines, errors: [msg], steps: 0 };
      }
    }
    if (cause !== "start") sdNotify(`RELOADING=1\nMONOTONIC_USEC=${Math.round(performance.now() * 1000)}`);
    for (const op of plan.ops) this.intended.apply(op);
    this.config = config;
    this.texts = loaded.texts;
    this.health.update(config);
    // Before the plane sees new VIPs: those of VRRP instances are answered only while MASTER.
    if (vrrp) await this.planeVips?.configure(vrrp);
    if (vrrp) this.vrrpConfig = vrrp;
    await this.syncLive();
    if (vrrp) await this.vrrp.update(vrrp);
    if (vrrp) await this.followLvsSyncd(vrrp, lvsSyncd);
    if (cause !== "start") {
      this.counters.reloads++;
      sdNotify("READY=1");
    }
    for (const l of plan.lines) this.log("info", `reload: ${l}`);
    this.log("info", plan.ops.length ? "rules applied" : "rules unchanged", {
      cause,
      steps: plan.ops.length,
    });
    return { applied: true, lines: plan.lines, errors: [], steps: plan.ops.length };
  }

  /** Start (or move) the lvs_sync_daemon's sync daemon for the named instance's current state. */
  private async followLvsSyncd(vrrp: VrrpConfig, l: LvsSyncd | null): Promise<void> {
    const inst = l ? vrrp.instances.find((i) => i.name === l.instance) : undefined;
    this.lvsSync.configure(inst ? l : null, inst?.vrid ?? 0);
    await this.lvsSync.follow(inst ? this.vrrp.stateOf(inst.name) : null);
  }

  /** Bring the live table to overlay(intended) and the listeners to the rules' endpoints. */
  async syncLive(): Promise<void> {
    const live = this.overlay(this.config);
    const accepted: DirectorOp[] = [];
    for (const op of planReload(this.director, live).ops) {
      const r = this.director.apply(op);
      if (r.ok) accepted.push(op);
      else
        this.log("error", "live table refused a step of the intended configuration", {
          op: op.op,
          errno: r.errno,
        });
    }
    // The packet worker owns the traffic-carrying table: the same ops keep it equal to ours.
    if (this.plane instanceof PacketPlane) {
      await this.planeVips?.setServiceVips(serviceVips4(live.services));
      await this.plane.apply(accepted);
    }
    await this.plane.sync(
      live.services.map((s) => ({
        key: serviceKey(s.id),
        listen: s.listen,
        proxyProtocol: new Map(
          s.dests
            .filter((x) => x.proxyProtocol)
            .map((x) => [
              `${x.config.addr.af === "inet6" ? `[${x.config.addr.text}]` : x.config.addr.text}:${x.config.port}`,
              x.proxyProtocol!,
            ]),
        ),
      })),
    );
  }

  /** A change from ipvsadm or the TUI: applied live, then written back to the rules file. */
  private async applyOp(op: DirectorOp): Promise<OpResult> {
    if (op.op === "add-server" || op.op === "edit-server") {
      const why = this.refusal(op.service, op.dest, `real server ${op.dest.addr.text}:${op.dest.port}`);
      if (why) return { ok: false, errno: "EINVAL", message: `uvs: ${why}` };
    }
    // Counters, timeouts and sync daemons are state of the live table, not configuration.
    if (op.op === "zero" || op.op === "set-timeouts" || op.op === "start-daemon" || op.op === "stop-daemon") {
      const live = await this.applyLive(op);
      if (live.ok) this.log("info", "change from the control socket", { op: op.op });
      return live;
    }
    const r = this.intended.apply(op);
    if (!r.ok) return r;
    this.log("info", "change from the control socket", { op: op.op });
    let files: Map<string, string>;
    try {
      files = writeBackFiles(this.texts, this.config, { services: this.intended.services });
    } catch (e) {
      this.log("error", "cannot express the change in the rules file", { error: (e as Error).message });
      return r;
    }
    // The re-parsed text is the new configuration, written to disk or not.
    const reparsed = parseRules(this.opts.rules, files.get(this.opts.rules) ?? "", {
      reader: memoryReader(Object.fromEntries(files)),
    });
    if (reparsed.config) {
      this.config = reparsed.config;
      this.texts = reparsed.texts;
      this.watchTargets = { files: [...reparsed.texts.keys()], dirs: reparsed.dirs };
      this.logNewWarnings(reparsed.diagnostics);
    } else {
      this.log(
        "error",
        "the written-back rules do not parse (a bug); the live table follows the CLI change only",
        {
          errors: reparsed.diagnostics.filter((x) => x.severity === "error").map(formatDiagnostic),
        },
      );
    }
    this.health.update(this.config);
    try {
      for (const [file, text] of files) if (text !== readFileIfAny(file)) writeFileAtomic(file, text);
    } catch (e) {
      this.log("error", "could not write the change back to the rules file (the change is live)", {
        rules: this.opts.rules,
        error: (e as Error).message,
      });
    }
    await this.syncLive();
    return r;
  }

  /** What a CLI change made the file warn about (`-A -f 5`: nothing to listen on) goes to the log. */
  private logNewWarnings(diagnostics: readonly Diagnostic[]): void {
    const warnings = diagnostics.filter((x) => x.severity === "warning");
    for (const w of warnings) if (!this.warned.has(w.message)) this.log("warning", formatDiagnostic(w));
    this.warned = new Set(warnings.map((w) => w.message));
  }

  /**
   * An op on the live table only (counters, timeouts, sync daemons). Sync daemons run where the
   * traffic is: here for the proxy plane, in the packet worker (which answers for them) otherwise.
   */
  private async applyLive(op: DirectorOp): Promise<OpResult> {
    if (op.op === "start-daemon") {
      const refused = SyncDaemons.check(op.daemon);
      if (refused) return refused;
    }
    const live = this.director.apply(op);
    if (!live.ok) return live;
    const daemonOp = op.op === "start-daemon" || op.op === "stop-daemon";
    if (this.plane instanceof PacketPlane) {
      const [r] = await this.plane.apply([op]);
      // a daemon the worker could not start is out of its state: take it out of ours too
      if (op.op === "start-daemon" && r && !r.ok)
        this.director.apply({ op: "stop-daemon", state: op.daemon.state, syncid: op.daemon.syncid });
      return r ?? live;
    }
    return daemonOp ? await this.sync.update() : live;
  }

  async handle(req: Request): Promise<unknown> {
    try {
      switch (req.method) {
        case "snapshot":
          return stringifyJsonBig(
            {
              ...(await this.liveSnapshot((req.params as { connections?: boolean }).connections)),
              health: this.health.entries(),
              ...(this.vrrp.size ? { vrrp: this.vrrp.view() } : {}),
            },
            0,
          );
        case "health":
          return { entries: this.health.entries() };
        case "apply": {
          const op = checkOp((req.params as { op?: unknown }).op);
          if (typeof op === "string") throw new Error(op);
          return await this.applyOp(op);
        }
        case "reload":
          return await this.reload(Boolean((req.params as { dryRun?: boolean }).dryRun), "control");
        case "events": {
          const since = (req.params as { since?: number }).since ?? 0;
          return { events: this.events.filter((e) => e.seq > since) };
        }
        case "ping":
          return {
            pid: process.pid,
            rules: this.opts.rules,
            dataplane: this.plane instanceof PacketPlane ? "packet" : "proxy",
            uptimeMs: Math.round(performance.now() - this.started),
          };
        default:
          throw new Error(`unknown method ${JSON.stringify(req.method)}`);
      }
    } catch (e) {
      this.counters.controlErrors++;
      throw e;
    }
  }

  private startMetrics(m: { host: string; port: number }): void {
    this.metricsServer = Bun.serve({
      hostname: m.host,
      port: m.port,
      fetch: (req) =>
        new URL(req.url).pathname === "/metrics"
          ? new Response(this.metrics(), {
              headers: { "Content-Type": "text/plain; version=0.0.4" },
            })
          : new Response("uvs metrics: see /metrics\n", { status: 404 }),
    });
    this.log("info", "metrics listening", { addr: `${m.host}:${this.metricsServer.port}` });
  }

  metrics(): string {
    const failures = new Map(Object.entries(this.plane.stats().connectFailures));
    if (this.plane instanceof PacketPlane) {
      const snap = this.plane.cachedSnapshot() ?? directorToSnapshot(this.director);
      const text = renderMetrics(snap, { ...this.counters, connectFailures: failures });
      return text + packetMetrics(this.plane.counters());
    }
    const text = renderMetrics(directorToSnapshot(this.director), {
      ...this.counters,
      connectFailures: failures,
    });
    return this.plane instanceof ProxyPlane ? text + proxyMetrics(this.plane.stats()) : text;
  }

  /** The table that carries traffic: the packet worker's, or ours for the proxy plane. */
  private liveSnapshot(connections: boolean | undefined): Promise<Snapshot> | Snapshot {
    if (this.plane instanceof PacketPlane) return this.plane.snapshot({ connections });
    return directorToSnapshot(this.director, { connections });
  }

  /** Why the running data plane cannot forward to this real server (null: it can). */
  private refusal(service: ServiceId, dest: DestConfig, where: string): string | null {
    if (this.plane instanceof PacketPlane) return packetRefusal(service, dest, where, this.plane.interfaces);
    return proxyRefusal(dest.forward, where);
  }

  /** SIGTERM: stop accepting, let connections finish (up to drainMs), then close everything. */
  async stop(): Promise<void> {
    sdNotify("STOPPING=1");
    // keepalived order: masters send priority 0 and release their VIPs first, so a backup takes over
    // (and the lvs_sync_daemon's daemon stops with its instance, not turning backup on the way out)
    this.lvsSync.configure(null, 0);
    await this.vrrp.stop();
    this.log("info", "stopping: draining connections", { timeoutMs: this.opts.drainMs });
    for (const t of this.timers) clearInterval(t);
    this.health.stop();
    this.stopWatch?.();
    this.control?.stop(true);
    this.metricsServer?.stop(true);
    await this.plane.drain(this.opts.drainMs);
    await this.plane.close();
    await this.sync.stop();
    this.log("info", "stopped");
  }
}

/** Whether two reads of the rules (file → text) are the same files with the same texts. */
function sameTexts(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [f, t] of a) if (b.get(f) !== t) return false;
  return true;
}
