/**
 * The sync master: which connection changes go to the backups and when (ip_vs_sync_conn,
 * ip_vs_sync_conn_needed, the master thread of ip_vs_sync.c). It counts each entry's incoming
 * packets, decides per packet whether the entry is due, appends it (and then its controlling
 * template) to the current message, and hands finished messages to `send`.
 *
 * Timing as the kernel's: a full message is queued and the queue is sent within 20 ms (at once
 * when 8 are waiting); a partly filled message goes out once it is 2 s old, checked every second.
 */
import { IPPROTO_SCTP, IPPROTO_TCP, Tcp } from "../conntrack/states.ts";
import { CONN_F_ONE_PACKET, CONN_F_TEMPLATE } from "../conntrack/table.ts";
import type { Director } from "../director/director.ts";
import { entryLength, MessageBuilder, type SyncConn } from "./codec.ts";

/** The sync sysctls under /proc/sys/net/ipv4/vs (defaults as the kernel's). */
export interface SyncSysctls {
  /** sync_threshold "3 50": first value. */
  threshold: number;
  /** sync_threshold second value (sync_period); 0 = only once, at `threshold` packets. */
  period: number;
  /** sync_refresh_period in ms (0 = off). */
  refreshPeriodMs: number;
  /** sync_retries (0..3). */
  retries: number;
  /** sync_persist_mode: entries under a persistence template are not sent (their template is). */
  persistMode: boolean;
  /** sync_qlen_max: messages waiting beyond this are dropped. */
  qlenMax: number;
}

export const DEFAULT_SYSCTLS: SyncSysctls = {
  threshold: 3,
  period: 50,
  refreshPeriodMs: 0,
  retries: 0,
  persistMode: false,
  qlenMax: 4096,
};

/** IPVS_SYNC_SEND_DELAY (HZ/50), IPVS_SYNC_WAKEUP_RATE, IPVS_SYNC_FLUSH_TIME, IPVS_SYNC_CHECK_PERIOD. */
export const SEND_DELAY_MS = 20;
export const WAKEUP_RATE = 8;
export const FLUSH_TIME_MS = 2000;
export const CHECK_PERIOD_MS = 1000;

const TCP_SYNC_STATES =
  (1 << Tcp.ESTABLISHED) |
  (1 << Tcp.FIN_WAIT) |
  (1 << Tcp.CLOSE) |
  (1 << Tcp.CLOSE_WAIT) |
  (1 << Tcp.TIME_WAIT);
// SCTP: ESTABLISHED 8, SHUTDOWN_SENT 9, SHUTDOWN_RECEIVED 10, SHUTDOWN_ACK_SENT 11, CLOSED 13.
const SCTP_ESTABLISHED = 8;
const SCTP_SYNC_STATES = (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 13);
const MIN_REFRESH_DIFF_MS = 10_000;

export interface MasterOptions {
  syncid: number;
  /** sync_maxlen: message size limit in bytes (UDP payload). */
  maxlen: number;
  send(msg: Uint8Array): void;
  sysctls?: Partial<SyncSysctls>;
  /** Use timers (default). Tests drive `pump()` by hand instead. */
  timers?: boolean;
}

export interface MasterStats {
  conns: number;
  messages: number;
  dropped: number;
}

/**
 * Per-entry sync state kept beside the connection table (which the master does not own): the
 * kernel's in_pkts, old_state and sync_endtime. Slots are reused, so each row remembers the
 * entry's serial and starts over when it changes.
 */
class EntryState {
  serial = new Uint32Array(1024);
  pkts = new Uint32Array(1024);
  oldState = new Uint8Array(1024);
  syncEnd = new Float64Array(1024);

  /** Make sure row `slot` belongs to entry `serial`; a new entry starts at 0 packets, state NONE. */
  bind(slot: number, serial: number): void {
    if (slot >= this.serial.length) this.grow(slot + 1);
    if (this.serial[slot] === serial) return;
    this.serial[slot] = serial;
    this.pkts[slot] = 0;
    this.oldState[slot] = 0;
    this.syncEnd[slot] = 0;
  }

  private grow(n: number): void {
    let cap = this.serial.length;
    while (cap < n) cap *= 2;
    const g = <T extends Uint32Array | Uint8Array | Float64Array>(a: T, make: (k: number) => T): T => {
      const b = make(cap);
      b.set(a as never);
      return b;
    };
    this.serial = g(this.serial, (k) => new Uint32Array(k));
    this.pkts = g(this.pkts, (k) => new Uint32Array(k));
    this.oldState = g(this.oldState, (k) => new Uint8Array(k));
    this.syncEnd = g(this.syncEnd, (k) => new Float64Array(k));
  }
}

export class SyncMaster {
  readonly sysctls: SyncSysctls;
  readonly stats: MasterStats = { conns: 0, messages: 0, dropped: 0 };
  private readonly rows = new EntryState();
  private cur: MessageBuilder | null = null;
  private curFirstUse = 0;
  private readonly queue: Uint8Array[] = [];
  /** Messages queued since the queue was last empty (sync_queue_delay). */
  private queueDelay = 0;
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;
  private checkTimer: ReturnType<typeof setInterval> | null = null;
  private stopped = false;

  constructor(
    private readonly d: Director,
    private readonly opts: MasterOptions,
  ) {
    this.sysctls = { ...DEFAULT_SYSCTLS, ...opts.sysctls };
    if (opts.timers !== false) {
      this.checkTimer = setInterval(() => this.pump(false), CHECK_PERIOD_MS);
      this.checkTimer.unref?.();
    }
  }

  /** The director's inPacket hook: one more incoming packet for `slot` (ip_vs_in's tail). */
  readonly inPacket = (slot: number): void => {
    const t = this.d.conns;
    if (this.stopped || !t.isLive(slot)) return;
    let pkts: number;
    if (t.flags(slot) & CONN_F_ONE_PACKET) pkts = this.sysctls.threshold;
    else {
      this.rows.bind(slot, t.serialOf(slot));
      pkts = ++this.rows.pkts[slot];
    }
    this.syncConn(slot, pkts);
  };

  /** ip_vs_sync_conn: the entry if due, then its controlling template (and so on up). */
  private syncConn(slot: number, pkts: number): void {
    const t = this.d.conns;
    for (let depth = 0; slot >= 0 && t.isLive(slot) && depth < 4; depth++) {
      this.rows.bind(slot, t.serialOf(slot));
      if (!(t.flags(slot) & CONN_F_ONE_PACKET) && this.needed(slot, pkts)) this.append(this.entryOf(slot));
      const ct = t.control(slot);
      if (ct < 0 || !t.isLive(ct)) return;
      if (t.flags(ct) & CONN_F_TEMPLATE) {
        this.rows.bind(ct, t.serialOf(ct));
        pkts = ++this.rows.pkts[ct];
      } else pkts = this.sysctls.threshold;
      slot = ct;
    }
  }

  private inPersistence(slot: number): boolean {
    const t = this.d.conns;
    for (let c = t.control(slot), n = 0; c >= 0 && n < 4; c = t.control(c), n++)
      if (t.flags(c) & CONN_F_TEMPLATE) return true;
    return false;
  }

  /** ip_vs_sync_conn_needed, single-threaded (the compare-and-swap always succeeds). */
  private needed(slot: number, pkts: number): boolean {
    const t = this.d.conns;
    const s = this.sysctls;
    const r = this.rows;
    const state = t.state(slot);
    const flags = t.flags(slot);
    const proto = t.protoOf(slot);
    const now = this.d.now;
    const timeout = t.timeout(slot);
    const orig = r.syncEnd[slot];
    let n = Math.floor((now + timeout) / 4) * 4; // low 2 bits carry the retry count
    let force = false;
    if (flags & CONN_F_TEMPLATE) force = false;
    else if (s.persistMode && this.inPersistence(slot)) return false;
    else if (proto === IPPROTO_TCP || proto === IPPROTO_SCTP) {
      const [mask, est] =
        proto === IPPROTO_TCP ? [TCP_SYNC_STATES, Tcp.ESTABLISHED] : [SCTP_SYNC_STATES, SCTP_ESTABLISHED];
      if (state > 31 || !((1 << state) & mask)) return false;
      force = state !== r.oldState[slot];
      if (force && state !== est) return this.set(slot, state, n);
    }
    if (s.refreshPeriodMs > 0) {
      const diff = n - orig;
      const minDiff = Math.max(timeout / 2, MIN_REFRESH_DIFF_MS);
      if (Math.abs(diff) < Math.min(s.refreshPeriodMs, minDiff)) {
        const retries = orig % 4;
        if (retries >= s.retries) return false;
        if (now < orig - timeout + s.refreshPeriodMs / 8) return false;
        n += retries + 1;
      }
    }
    if (s.period > 0) {
      if (!(flags & CONN_F_TEMPLATE) && pkts % s.period !== s.threshold) return false;
    } else if (!s.refreshPeriodMs && pkts !== s.threshold) return false;
    return this.set(slot, state, n);
  }

  private set(slot: number, state: number, n: number): true {
    this.rows.oldState[slot] = state;
    this.rows.syncEnd[slot] = n;
    return true;
  }

  /** The entry as a sync message carries it. */
  private entryOf(slot: number): SyncConn {
    const t = this.d.conns;
    const caddr = t.caddr(slot);
    const c: SyncConn = {
      af: caddr.af,
      protocol: t.protoOf(slot),
      flags: t.flags(slot),
      state: t.state(slot),
      cport: t.cport(slot),
      vport: t.vport(slot),
      dport: t.dport(slot),
      fwmark: t.fwmark(slot),
      timeout: Math.floor(t.timeout(slot) / 1000),
      caddr,
      vaddr: t.vaddr(slot),
      daddr: t.daddr(slot),
    };
    const pe = t.pe(slot);
    if (pe?.data) {
      c.peData = new TextEncoder().encode(pe.data).slice(0, 255);
      c.peName = pe.name;
    }
    return c;
  }

  private append(c: SyncConn): void {
    if (this.cur && !this.cur.add(c)) this.queueCurrent();
    if (!this.cur) {
      this.cur = new MessageBuilder(this.opts.syncid, this.opts.maxlen, entryLength(c));
      this.curFirstUse = this.d.now;
      this.cur.add(c);
    }
    this.stats.conns++;
  }

  /** sb_queue_tail: a finished message joins the send queue; wake the sender as the kernel does. */
  private queueCurrent(): void {
    const cur = this.cur;
    this.cur = null;
    if (!cur || cur.conns === 0) return;
    if (this.queue.length >= this.sysctls.qlenMax) {
      this.stats.dropped++;
      return;
    }
    if (this.queue.length === 0 && this.opts.timers !== false && !this.wakeTimer) {
      this.wakeTimer = setTimeout(() => {
        this.wakeTimer = null;
        this.pump(false);
      }, SEND_DELAY_MS);
    }
    this.queue.push(cur.finish());
    if (++this.queueDelay === WAKEUP_RATE) this.pump(false);
  }

  /**
   * The master thread's round: send every queued message, then the current one if it is at
   * least FLUSH_TIME old (or at once with `all`). Returns how many messages went out.
   */
  pump(all: boolean): number {
    if (all || (this.cur && this.d.now - this.curFirstUse >= FLUSH_TIME_MS)) this.queueCurrent();
    let sent = 0;
    while (this.queue.length) {
      const m = this.queue.shift()!;
      this.opts.send(m);
      sent++;
    }
    this.queueDelay = 0;
    this.stats.messages += sent;
    return sent;
  }

  /** --stop-daemon master: like the kernel, what was not sent yet is dropped. */
  stop(): void {
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    this.wakeTimer = null;
    this.checkTimer = null;
    this.queue.length = 0;
    this.cur = null;
  }
}
