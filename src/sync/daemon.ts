/**
 * The sync daemons of one Director: a master and/or a backup, started and stopped to follow the
 * director's daemon state (what `--start-daemon` / `--stop-daemon` store). Takes the Director
 * as a parameter, so it runs wherever the traffic-carrying director lives (main thread or a
 * worker).
 */
import type { OpResult, SyncDaemonConfig } from "../director/api.ts";
import type { Director } from "../director/director.ts";
import { parseIp } from "../model/addr.ts";
import { applyMessage, type BackupStats } from "./backup.ts";
import { decodeMessage } from "./codec.ts";
import { type MasterStats, SyncMaster, type SyncSysctls } from "./master.ts";
import {
  DEFAULT_GROUP,
  DEFAULT_PORT,
  DEFAULT_TTL,
  effectiveMaxlen,
  interfaceExists,
  interfaceMtu,
  openReceiveSocket,
  openSendSocket,
  type ReceiveSocket,
  type SendSocket,
} from "./transport.ts";

export type SyncLog = (
  level: "info" | "warning" | "error",
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export interface SyncDaemonsOptions {
  log?: SyncLog;
  sysctls?: Partial<SyncSysctls>;
}

interface RunningMaster {
  cfg: SyncDaemonConfig;
  key: string;
  master: SyncMaster;
  sock: SendSocket;
}

interface RunningBackup {
  cfg: SyncDaemonConfig;
  key: string;
  sock: ReceiveSocket;
  stats: BackupStats;
}

const keyOf = (c: SyncDaemonConfig) =>
  JSON.stringify([c.state, c.mcastIfn, c.syncid, c.maxlen, c.group?.text, c.port, c.ttl]);

export class SyncDaemons {
  private master: RunningMaster | null = null;
  private backup: RunningBackup | null = null;
  private updating: Promise<void> = Promise.resolve();
  private readonly log: SyncLog;

  constructor(
    private readonly d: Director,
    private readonly opts: SyncDaemonsOptions = {},
  ) {
    this.log = opts.log ?? (() => {});
  }

  /**
   * What the kernel refuses at --start-daemon before anything runs: an interface that does not
   * exist (ENODEV, which ipvsadm prints as "No such device", and so does uvs). Null when the start
   * may go ahead.
   */
  static check(cfg: SyncDaemonConfig): OpResult | null {
    if (interfaceExists(cfg.mcastIfn)) return null;
    return { ok: false, errno: "ENODEV" };
  }

  /**
   * Bring the running daemons in line with the director's daemon state, one update at a time.
   * A daemon that cannot start is taken out of that state again (as a failed start leaves the
   * kernel without it) and the result says why.
   */
  update(): Promise<OpResult> {
    const run = this.updating.then(() => this.reconcile());
    this.updating = run.then(() => {});
    return run;
  }

  private async reconcile(): Promise<OpResult> {
    const want = new Map(this.d.syncDaemons.map((c) => [c.state, c]));
    let failed: string | null = null;
    const m = want.get("master");
    if (this.master && (!m || keyOf(m) !== this.master.key)) this.stopMaster();
    if (m && !this.master) failed = await this.startMaster(m);
    if (failed) this.d.apply({ op: "stop-daemon", state: "master", syncid: m!.syncid });
    const b = want.get("backup");
    if (this.backup && (!b || keyOf(b) !== this.backup.key)) this.stopBackup();
    if (b && !this.backup) {
      const why = await this.startBackup(b);
      if (why) this.d.apply({ op: "stop-daemon", state: "backup", syncid: b.syncid });
      failed ??= why;
    }
    return failed ? { ok: false, errno: "EINVAL", message: `uvs: ${failed}` } : { ok: true };
  }

  /** Fill in what the kernel fills in at start (and reports with -L --daemon). */
  private fillDefaults(cfg: SyncDaemonConfig): void {
    cfg.group ??= parseIp(DEFAULT_GROUP)!;
    cfg.port ||= DEFAULT_PORT;
    cfg.ttl ||= DEFAULT_TTL;
    cfg.maxlen = effectiveMaxlen(cfg.state, cfg.maxlen, cfg.group.af, interfaceMtu(cfg.mcastIfn));
  }

  private endpoint(cfg: SyncDaemonConfig) {
    return { ifname: cfg.mcastIfn, group: cfg.group!, port: cfg.port!, ttl: cfg.ttl! };
  }

  private async startMaster(cfg: SyncDaemonConfig): Promise<string | null> {
    this.fillDefaults(cfg);
    let sock: SendSocket;
    try {
      sock = await openSendSocket(this.endpoint(cfg));
    } catch (e) {
      const why = `sync master cannot start on ${cfg.mcastIfn}: ${(e as Error).message}`;
      this.log("error", why);
      return why;
    }
    const master = new SyncMaster(this.d, {
      syncid: cfg.syncid,
      maxlen: cfg.maxlen!,
      sysctls: this.opts.sysctls,
      send: (msg) => {
        try {
          sock.send(msg);
        } catch {
          // Like ip_vs_send_async with MSG_DONTWAIT: a message that cannot go now is lost.
        }
      },
    });
    this.d.hooks.inPacket = master.inPacket;
    this.master = { cfg, key: keyOf(cfg), master, sock };
    this.log("info", "sync thread started: state = MASTER", this.describe(cfg));
    return null;
  }

  private async startBackup(cfg: SyncDaemonConfig): Promise<string | null> {
    this.fillDefaults(cfg);
    const stats: BackupStats = { messages: 0, conns: 0, refused: 0, skipped: 0 };
    let sock: ReceiveSocket;
    try {
      sock = await openReceiveSocket(this.endpoint(cfg), (msg) => this.receive(msg, cfg.syncid, stats));
    } catch (e) {
      const why = `sync backup cannot start on ${cfg.mcastIfn}: ${(e as Error).message}`;
      this.log("error", why);
      return why;
    }
    this.backup = { cfg, key: keyOf(cfg), sock, stats };
    this.log("info", "sync thread started: state = BACKUP", this.describe(cfg));
    return null;
  }

  /** ip_vs_process_message; datagrams longer than sync_maxlen are cut as the kernel's read is. */
  private receive(raw: Uint8Array, syncid: number, stats: BackupStats): void {
    const max = this.backup?.cfg.maxlen ?? raw.length;
    const r = decodeMessage(raw.length > max ? raw.subarray(0, max) : raw, syncid);
    if (!r.ok) {
      stats.refused++;
      return;
    }
    applyMessage(this.d, r.msg, stats);
    if (r.msg.stopped) stats.refused++;
  }

  private describe(c: SyncDaemonConfig): Record<string, unknown> {
    return {
      mcast_ifn: c.mcastIfn,
      syncid: c.syncid,
      maxlen: c.maxlen,
      group: c.group?.text,
      port: c.port,
      ttl: c.ttl,
    };
  }

  private stopMaster(): void {
    const m = this.master;
    if (!m) return;
    m.master.stop();
    if (this.d.hooks.inPacket === m.master.inPacket) this.d.hooks.inPacket = undefined;
    m.sock.close();
    this.master = null;
    this.log("info", "stopping master sync thread");
  }

  private stopBackup(): void {
    const b = this.backup;
    if (!b) return;
    b.sock.close();
    this.backup = null;
    this.log("info", "stopping backup sync thread");
  }

  /** Counters for logs and tests. */
  stats(): { master: MasterStats | null; backup: BackupStats | null } {
    return { master: this.master?.master.stats ?? null, backup: this.backup?.stats ?? null };
  }

  /** Stop both (the daemon is going down). */
  async stop(): Promise<void> {
    await this.updating;
    this.stopMaster();
    this.stopBackup();
  }
}
