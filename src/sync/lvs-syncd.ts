/**
 * keepalived's `lvs_sync_daemon IFACE VRRP_INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]`
 * (global_defs): the sync daemon follows one VRRP instance. As keepalived (vrrp.c:
 * vrrp_state_become_master / vrrp_state_leave_master, and the start after loading): the instance
 * MASTER → only a master sync daemon; any other state (starting, BACKUP, FAULT) → only a backup
 * one. Without `id`, the syncid is the instance's virtual_router_id.
 */
import type { DirectorOp, OpResult, SyncDaemonConfig } from "../director/api.ts";
import { type IpAddr, parseIp } from "../model/addr.ts";
import type { Stmt, Token } from "../rules/cst.ts";
import type { Diagnostics } from "../rules/model.ts";
import { stmtPos, tokPos } from "../rules/values.ts";
import { table } from "../util/table.ts";

export interface LvsSyncd {
  ifname: string;
  instance: string;
  /** null: the instance's vrid. */
  syncid: number | null;
  maxlen?: number;
  port?: number;
  ttl?: number;
  group?: IpAddr;
}

const NUMERIC: Record<string, { key: "syncid" | "maxlen" | "port" | "ttl"; min: number; max: number }> =
  table({
    id: { key: "syncid", min: 0, max: 255 },
    maxlen: { key: "maxlen", min: 1, max: 65535 - 20 - 8 },
    port: { key: "port", min: 1, max: 65535 },
    ttl: { key: "ttl", min: 1, max: 255 },
  });

function int(t: Token, min: number, max: number): number | null {
  if (!/^[0-9]{1,6}$/.test(t.text)) return null;
  const n = Number(t.text);
  return n >= min && n <= max ? n : null;
}

/** One `lvs_sync_daemon` statement; errors go to `diags` (positioned), null when unusable. */
export function parseLvsSyncd(s: Stmt, diags: Diagnostics): LvsSyncd | null {
  const [ifTok, instTok, ...rest] = s.args;
  if (!ifTok || !instTok) {
    diags.error(
      stmtPos(s),
      "'lvs_sync_daemon' expects INTERFACE VRRP_INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]",
    );
    return null;
  }
  const out: LvsSyncd = { ifname: ifTok.text, instance: instTok.text, syncid: null };
  let i = 0;
  // keepalived before "id" existed: a bare number after the instance is the syncid
  if (rest[0] && /^[0-9]/.test(rest[0].text)) {
    const n = int(rest[0], 0, 255);
    if (n === null)
      diags.error(
        tokPos(s.file, rest[0]),
        `invalid lvs_sync_daemon syncid '${rest[0].text}': expected 0..255`,
      );
    else
      diags.warn(tokPos(s.file, rest[0]), `use 'id ${n}' for the lvs_sync_daemon syncid (keepalived's form)`);
    out.syncid = n;
    i = 1;
  }
  for (; i < rest.length; i += 2) {
    const k = rest[i];
    const v = rest[i + 1];
    const num = NUMERIC[k.text];
    if (!num && k.text !== "group") {
      diags.error(
        tokPos(s.file, k),
        `unknown lvs_sync_daemon option '${k.text}' (id, maxlen, port, ttl, group)`,
      );
      return null;
    }
    if (!v) {
      diags.error(tokPos(s.file, k), `lvs_sync_daemon ${k.text} needs a value`);
      return null;
    }
    if (num) {
      const n = int(v, num.min, num.max);
      if (n === null) {
        diags.error(
          tokPos(s.file, v),
          `invalid lvs_sync_daemon ${k.text} '${v.text}': expected ${num.min}..${num.max}`,
        );
        return null;
      }
      out[num.key] = n;
    } else {
      const a = parseIp(v.text);
      if (!a) {
        diags.error(tokPos(s.file, v), `invalid lvs_sync_daemon group '${v.text}': expected an IP address`);
        return null;
      }
      out.group = a;
    }
  }
  return out;
}

/**
 * The lvs_sync_daemon of the global_defs blocks (the last one wins, as keepalived reads them),
 * checked against the VRRP instances: an instance that does not exist is an error (keepalived
 * logs "Unable to find vrrp instance" and clears the setting).
 */
export function lvsSyncdOf(
  globalDefs: readonly Stmt[],
  instances: readonly { name: string }[],
  diags: Diagnostics,
): LvsSyncd | null {
  let found: { l: LvsSyncd; s: Stmt } | null = null;
  for (const b of globalDefs)
    for (const s of b.block?.body ?? []) {
      if (s.keyword.text !== "lvs_sync_daemon") continue;
      const l = parseLvsSyncd(s, diags);
      found = l ? { l, s } : null;
    }
  if (!found) return null;
  if (!instances.some((x) => x.name === found.l.instance)) {
    diags.error(
      tokPos(found.s.file, found.s.args[1]),
      `lvs_sync_daemon names vrrp_instance '${found.l.instance}', which does not exist`,
    );
    return null;
  }
  return found.l;
}

/** The sync daemon to run for the instance's role. */
export function syncdConfig(l: LvsSyncd, role: "master" | "backup", vrid: number): SyncDaemonConfig {
  const c: SyncDaemonConfig = { state: role, mcastIfn: l.ifname, syncid: l.syncid ?? vrid };
  if (l.maxlen) c.maxlen = l.maxlen;
  if (l.port) c.port = l.port;
  if (l.ttl) c.ttl = l.ttl;
  if (l.group) c.group = l.group;
  return c;
}

export type SyncdLog = (
  level: "info" | "warning" | "error",
  msg: string,
  fields?: Record<string, unknown>,
) => void;

/**
 * Runs the sync daemon an lvs_sync_daemon setting asks for, through `apply` (the daemon's path for
 * --start-daemon / --stop-daemon). Calls are serialised; what it started is remembered, so a
 * reload with another setting stops it first.
 */
export class LvsSyncFollower {
  private want: { l: LvsSyncd; vrid: number } | null = null;
  private running: { cfg: SyncDaemonConfig; key: string } | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly apply: (op: DirectorOp) => Promise<OpResult>,
    private readonly log: SyncdLog,
  ) {}

  /** The setting of a (re)loaded configuration (null: none) and the named instance's vrid. */
  configure(l: LvsSyncd | null, vrid: number): void {
    this.want = l ? { l, vrid } : null;
  }

  get instance(): string | null {
    return this.want?.l.instance ?? null;
  }

  /** Bring the sync daemon in line with the instance's state (null: not running → none). */
  follow(state: string | null): Promise<void> {
    const run = this.queue.then(() => this.reconcile(state));
    this.queue = run.catch(() => {});
    return run;
  }

  private async reconcile(state: string | null): Promise<void> {
    const w = this.want;
    const cfg =
      w && state !== null ? syncdConfig(w.l, state === "master" ? "master" : "backup", w.vrid) : null;
    const key = cfg ? JSON.stringify({ ...cfg, group: cfg.group?.text }) : null;
    if (this.running && this.running.key === key) return;
    if (this.running) {
      const r = this.running.cfg;
      this.running = null;
      await this.apply({ op: "stop-daemon", state: r.state, syncid: r.syncid });
    }
    if (!cfg || !key || !w) return;
    const r = await this.apply({ op: "start-daemon", daemon: cfg });
    if (r.ok) {
      this.running = { cfg, key };
      this.log("info", `lvs_sync_daemon: ${cfg.state} sync daemon for ${w.l.instance} (${state})`, {
        interface: cfg.mcastIfn,
        syncid: cfg.syncid,
      });
    } else
      this.log("error", `lvs_sync_daemon: cannot start the ${cfg.state} sync daemon`, {
        errno: r.errno,
        error: r.message,
      });
  }
}
