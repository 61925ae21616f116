/**
 * IPVS connection sync messages (net/netfilter/ipvs/ip_vs_sync.c), byte for byte: version 1
 * (what sync_version=1, the default, sends) and the old version 0 (decoded, never sent).
 * Pure: no I/O. The decoder never throws; it returns what it could read and why it stopped,
 * with the kernel's rules for what drops one entry and what drops the rest of a message.
 */
import { type IpAddr, ipv4FromU32, ipv6FromWords } from "../model/addr.ts";

/** struct ip_vs_sync_mesg (v1) and struct ip_vs_sync_mesg_v0. */
export const V1_HEADER = 8;
export const V0_HEADER = 4;
/** struct ip_vs_sync_v4 / ip_vs_sync_v6 without options. */
export const V4_ENTRY = 36;
export const V6_ENTRY = 72;
/** struct ip_vs_sync_conn_v0, and with its 24 bytes of sequence options. */
export const V0_ENTRY = 24;
export const V0_FULL_ENTRY = 48;
export const SYNC_PROTO_VER = 1;
/** IPv4 + UDP header: what the default maxlen (1500 - 28) leaves room for. */
export const IPV4_UDP_HEADERS = 28;
export const IPV6_UDP_HEADERS = 48;

const STYPE_F_INET6 = 1;
const SVER_SHIFT = 12;
const SVER_MASK = 0x0fff;
const OPT_SEQ_DATA = 1;
const OPT_PE_DATA = 2;
const OPT_PE_NAME = 3;
const OPT_F_PARAM = 0x40;
const SEQ_OPTIONS_LEN = 24;
const PENAME_MAXLEN = 16;

/** IP_VS_CONN_F_* bits the codec and the backup care about. */
export const CONN_F_HASHED = 0x0040;
export const CONN_F_SYNC = 0x0020;
export const CONN_F_SEQ_MASK = 0x0600;
export const CONN_F_TEMPLATE = 0x1000;
/** IP_VS_CONN_F_BACKUP_MASK: FWD_MASK | NOOUTPUT | INACTIVE | SEQ_MASK | NO_CPORT | TEMPLATE. */
export const CONN_F_BACKUP_MASK = 0x0007 | 0x0080 | 0x0100 | 0x0600 | 0x0800 | 0x1000;
/** IP_VS_CONN_F_BACKUP_UPD_MASK: what an update may change on an existing entry. */
export const CONN_F_BACKUP_UPD_MASK = 0x0100 | 0x0600;

/** struct ip_vs_seq: init_seq, delta, previous_delta. */
export type Seq = readonly [number, number, number];

/** One connection as a sync message carries it. */
export interface SyncConn {
  af: "inet" | "inet6";
  protocol: number;
  /** Connection flags as sent (the master clears HASHED). */
  flags: number;
  state: number;
  cport: number;
  vport: number;
  dport: number;
  fwmark: number;
  /** Seconds; 0 in version 0 messages (the backup then takes the state's timeout). */
  timeout: number;
  caddr: IpAddr;
  vaddr: IpAddr;
  daddr: IpAddr;
  /** IPVS_OPT_SEQ_DATA: in_seq and out_seq (NAT sequence adjustment). */
  seq?: { in: Seq; out: Seq };
  peData?: Uint8Array;
  peName?: string;
}

/** Entry length of `c` in a v1 message, options included, padding excluded. */
export function entryLength(c: SyncConn): number {
  let len = c.af === "inet6" ? V6_ENTRY : V4_ENTRY;
  if (c.flags & CONN_F_SEQ_MASK) len += SEQ_OPTIONS_LEN + 2;
  if (c.peData?.length) {
    len += c.peData.length + 2;
    if (c.peName) len += Math.min(c.peName.length, PENAME_MAXLEN) + 2;
  }
  return len;
}

function putAddr(v: DataView, off: number, a: IpAddr, v6: boolean): number {
  const words = v6 ? (a.words.length === 4 ? a.words : [0, 0, 0xffff, a.words[0]]) : [a.words.at(-1) ?? 0];
  for (const w of words) {
    v.setUint32(off, w >>> 0);
    off += 4;
  }
  return off;
}

function putSeq(v: DataView, off: number, s: Seq): number {
  for (const x of s) {
    v.setUint32(off, x >>> 0);
    off += 4;
  }
  return off;
}

/** Write one v1 entry at `off` (its length is entryLength(c)); returns the offset after it. */
function writeEntry(v: DataView, off: number, c: SyncConn): number {
  const v6 = c.af === "inet6";
  const len = entryLength(c);
  v.setUint8(off, v6 ? STYPE_F_INET6 : 0);
  v.setUint8(off + 1, c.protocol & 0xff);
  v.setUint16(off + 2, len & SVER_MASK); // version 0 in the top 4 bits
  v.setUint32(off + 4, (c.flags & ~CONN_F_HASHED) >>> 0);
  v.setUint16(off + 8, c.state & 0xffff);
  v.setUint16(off + 10, c.cport & 0xffff);
  v.setUint16(off + 12, c.vport & 0xffff);
  v.setUint16(off + 14, c.dport & 0xffff);
  v.setUint32(off + 16, c.fwmark >>> 0);
  v.setUint32(off + 20, c.timeout >>> 0);
  let p = off + 24;
  p = putAddr(v, p, c.caddr, v6);
  p = putAddr(v, p, c.vaddr, v6);
  p = putAddr(v, p, c.daddr, v6);
  if (c.flags & CONN_F_SEQ_MASK) {
    v.setUint8(p++, OPT_SEQ_DATA);
    v.setUint8(p++, SEQ_OPTIONS_LEN);
    const s = c.seq ?? { in: [0, 0, 0], out: [0, 0, 0] };
    p = putSeq(v, p, s.in);
    p = putSeq(v, p, s.out);
  }
  if (c.peData?.length) {
    v.setUint8(p++, OPT_PE_DATA);
    v.setUint8(p++, c.peData.length);
    new Uint8Array(v.buffer, v.byteOffset + p, c.peData.length).set(c.peData);
    p += c.peData.length;
    if (c.peName) {
      const name = new TextEncoder().encode(c.peName.slice(0, PENAME_MAXLEN));
      v.setUint8(p++, OPT_PE_NAME);
      v.setUint8(p++, name.length);
      new Uint8Array(v.buffer, v.byteOffset + p, name.length).set(name);
      p += name.length;
    }
  }
  return p;
}

/**
 * A v1 message being filled, as the master's sync_buff: entries are 4-byte aligned with the zero
 * padding placed before an entry (and counted in the size), never after the last one.
 */
export class MessageBuilder {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private head = V1_HEADER;
  private count = 0;

  /** `maxlen` is sync_maxlen; a single larger entry still gets a message of its own. */
  constructor(
    readonly syncid: number,
    readonly maxlen: number,
    firstLen = 0,
  ) {
    const cap = Math.max(firstLen + V1_HEADER, maxlen);
    this.buf = new Uint8Array(cap);
    this.view = new DataView(this.buf.buffer);
    this.view.setUint8(0, 0);
    this.view.setUint8(1, syncid & 0xff);
    this.view.setUint8(5, SYNC_PROTO_VER);
  }

  get size(): number {
    return this.head;
  }
  get conns(): number {
    return this.count;
  }

  /** Would `c` fit (with its padding)? nr_conns is a u8, so 255 entries at most. */
  fits(c: SyncConn): boolean {
    const pad = (4 - this.head) & 3;
    return this.count < 255 && this.head + pad + entryLength(c) <= this.buf.length;
  }

  /** Append `c`; false (nothing written) when it does not fit. */
  add(c: SyncConn): boolean {
    if (!this.fits(c)) return false;
    const pad = (4 - this.head) & 3;
    this.head = writeEntry(this.view, this.head + pad, c);
    this.count++;
    return true;
  }

  /** The finished datagram (a copy: the builder may be reused). */
  finish(): Uint8Array {
    this.view.setUint16(2, this.head);
    this.view.setUint8(4, this.count);
    return this.buf.slice(0, this.head);
  }
}

/** Encode `conns` into as few v1 messages as `maxlen` allows, in order. */
export function encodeMessages(syncid: number, maxlen: number, conns: readonly SyncConn[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let b: MessageBuilder | null = null;
  for (const c of conns) {
    if (b && !b.add(c)) {
      out.push(b.finish());
      b = null;
    }
    if (!b) {
      b = new MessageBuilder(syncid, maxlen, entryLength(c));
      b.add(c);
    }
  }
  if (b) out.push(b.finish());
  return out;
}

// --- decoding --------------------------------------------------------------------------------

/** Per protocol: how many states the kernel accepts (pp->num_states); others are unsupported. */
const NUM_STATES: Readonly<Record<number, number>> = { 6: 11, 17: 1, 132: 14, 50: 1, 51: 1 };

export interface DecodedMessage {
  version: 0 | 1;
  syncid: number;
  /** Entries the kernel would apply, in message order. */
  conns: SyncConn[];
  /** Entries skipped (the rest of the message still read), with why. */
  skipped: string[];
  /** Set when the kernel would drop the rest of the message from this point. */
  stopped?: string;
}

export type DecodeResult = { ok: true; msg: DecodedMessage } | { ok: false; reason: string };

function getAddr(v: DataView, off: number, v6: boolean): IpAddr {
  if (!v6) return ipv4FromU32(v.getUint32(off));
  return ipv6FromWords([v.getUint32(off), v.getUint32(off + 4), v.getUint32(off + 8), v.getUint32(off + 12)]);
}

function getSeq(v: DataView, off: number): Seq {
  return [v.getUint32(off), v.getUint32(off + 4), v.getUint32(off + 8)];
}

/** Protocol / state check shared by both versions; null when acceptable. */
function stateProblem(flags: number, protocol: number, state: number): string | null {
  if (flags & CONN_F_TEMPLATE) return null; // the kernel only logs a bad template state
  const n = NUM_STATES[protocol];
  if (n === undefined) return `unsupported protocol ${protocol}`;
  if (state >= n) return `invalid state ${state} for protocol ${protocol}`;
  return null;
}

/**
 * ip_vs_proc_sync_conn: one v1 entry in [off, end). A negative outcome (`stop`) drops the rest of
 * the message; a `skip` drops this entry only.
 */
function decodeEntry(
  v: DataView,
  off: number,
  end: number,
): { conn: SyncConn } | { skip: string } | { stop: string } {
  const type = v.getUint8(off);
  let v6: boolean;
  if (type & STYPE_F_INET6) v6 = true;
  else if (type === 0) v6 = false;
  else return { stop: `entry type ${type} unknown` };
  let p = off + (v6 ? V6_ENTRY : V4_ENTRY);
  if (p > end)
    return { stop: `entry of ${end - off} bytes is shorter than its ${v6 ? "IPv6" : "IPv4"} base` };
  let seq: SyncConn["seq"];
  let peData: Uint8Array | undefined;
  let peName: string | undefined;
  while (p < end) {
    if (p + 2 > end) return { stop: "option header cut short" };
    const ptype = v.getUint8(p++);
    const plen = v.getUint8(p++);
    if (!plen || p + plen > end) return { stop: `option ${ptype} length ${plen} does not fit` };
    switch (ptype & ~OPT_F_PARAM) {
      case OPT_SEQ_DATA:
        if (plen !== SEQ_OPTIONS_LEN) return { stop: `sequence option of ${plen} bytes` };
        if (seq) return { stop: "sequence option twice" };
        seq = { in: getSeq(v, p), out: getSeq(v, p + 12) };
        break;
      case OPT_PE_DATA:
        if (peData) return { stop: "PE data twice" };
        peData = new Uint8Array(v.buffer, v.byteOffset + p, plen).slice();
        break;
      case OPT_PE_NAME:
        if (plen > PENAME_MAXLEN) return { stop: `PE name of ${plen} bytes` };
        if (peName !== undefined) return { stop: "PE name twice" };
        peName = new TextDecoder().decode(new Uint8Array(v.buffer, v.byteOffset + p, plen));
        break;
      default:
        // Types with bit 0x40 are optional; an unknown mandatory one drops this entry.
        if (!(ptype & OPT_F_PARAM)) return { skip: `unknown mandatory option ${ptype}` };
    }
    p += plen;
  }
  const flags = v.getUint32(off + 4);
  const protocol = v.getUint8(off + 1);
  const state = v.getUint16(off + 8);
  const bad = stateProblem(flags, protocol, state);
  if (bad) return { skip: bad };
  if (peData && peName === undefined) return { skip: "PE data without a PE name" };
  const a = off + 24;
  const w = v6 ? 16 : 4;
  const conn: SyncConn = {
    af: v6 ? "inet6" : "inet",
    protocol,
    flags,
    state,
    cport: v.getUint16(off + 10),
    vport: v.getUint16(off + 12),
    dport: v.getUint16(off + 14),
    fwmark: v.getUint32(off + 16),
    timeout: v.getUint32(off + 20),
    caddr: getAddr(v, a, v6),
    vaddr: getAddr(v, a + w, v6),
    daddr: getAddr(v, a + 2 * w, v6),
  };
  if (seq) conn.seq = seq;
  if (peData) {
    conn.peData = peData;
    conn.peName = peName;
  }
  return { conn };
}

function decodeV1(v: DataView, len: number, msg: DecodedMessage): void {
  const n = v.getUint8(4);
  let next = V1_HEADER;
  for (let i = 0; i < n; i++) {
    const p = next;
    if (p + V4_ENTRY > len) {
      msg.stopped = `entry ${i + 1} of ${n} starts at ${p}, too close to the end (${len} bytes)`;
      return;
    }
    const verSize = v.getUint16(p + 2);
    const size = verSize & SVER_MASK;
    if (p + size > len) {
      msg.stopped = `entry ${i + 1} of ${n} claims ${size} bytes, past the end`;
      return;
    }
    if (verSize >> SVER_SHIFT) {
      msg.stopped = `entry ${i + 1} has unknown version ${verSize >> SVER_SHIFT}`;
      return;
    }
    const r = decodeEntry(v, p, p + size);
    if ("stop" in r) {
      msg.stopped = `entry ${i + 1}: ${r.stop}`;
      return;
    }
    if ("skip" in r) msg.skipped.push(`entry ${i + 1}: ${r.skip}`);
    else msg.conns.push(r.conn);
    next = p + ((size + 3) & ~3);
  }
}

/** ip_vs_process_message_v0: IPv4 only, no timeout, no fwmark. */
function decodeV0(v: DataView, len: number, msg: DecodedMessage): void {
  const n = v.getUint8(0);
  let p = V0_HEADER;
  for (let i = 0; i < n; i++) {
    if (p + V0_ENTRY > len) {
      msg.stopped = `v0 entry ${i + 1} of ${n} cut short`;
      return;
    }
    const flags = (v.getUint16(p + 20) | CONN_F_SYNC) & ~CONN_F_HASHED;
    const hasSeq = (flags & CONN_F_SEQ_MASK) !== 0;
    const size = hasSeq ? V0_FULL_ENTRY : V0_ENTRY;
    if (p + size > len) {
      msg.stopped = `v0 entry ${i + 1} sequence options cut short`;
      return;
    }
    const protocol = v.getUint8(p + 1);
    const state = v.getUint16(p + 22);
    const bad = stateProblem(flags, protocol, state);
    if (bad) msg.skipped.push(`v0 entry ${i + 1}: ${bad}`);
    else {
      const conn: SyncConn = {
        af: "inet",
        protocol,
        flags,
        state,
        cport: v.getUint16(p + 2),
        vport: v.getUint16(p + 4),
        dport: v.getUint16(p + 6),
        fwmark: 0,
        timeout: 0,
        caddr: ipv4FromU32(v.getUint32(p + 8)),
        vaddr: ipv4FromU32(v.getUint32(p + 12)),
        daddr: ipv4FromU32(v.getUint32(p + 16)),
      };
      if (hasSeq) conn.seq = { in: getSeq(v, p + V0_ENTRY), out: getSeq(v, p + V0_ENTRY + 12) };
      msg.conns.push(conn);
    }
    p += size;
  }
}

/**
 * ip_vs_process_message: check the datagram, filter by sync id (a backup with syncid 0 takes
 * every message), then read v1 (version 1, reserved and spare 0) or else v0 entries.
 */
export function decodeMessage(buf: Uint8Array, backupSyncid = 0): DecodeResult {
  if (buf.length < V0_HEADER)
    return { ok: false, reason: `message of ${buf.length} bytes is shorter than a header` };
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const size = v.getUint16(2);
  if (size !== buf.length)
    return { ok: false, reason: `size field says ${size} bytes but the datagram has ${buf.length}` };
  const syncid = v.getUint8(1);
  if (backupSyncid !== 0 && syncid !== backupSyncid)
    return { ok: false, reason: `sync id ${syncid} is not ours (${backupSyncid})` };
  const isV1 =
    buf.length >= V1_HEADER &&
    v.getUint8(5) === SYNC_PROTO_VER &&
    v.getUint8(0) === 0 &&
    v.getUint16(6) === 0;
  const msg: DecodedMessage = { version: isV1 ? 1 : 0, syncid, conns: [], skipped: [] };
  if (isV1) decodeV1(v, buf.length, msg);
  else decodeV0(v, buf.length, msg);
  return { ok: true, msg };
}

/** Encode a v0 message (tests and interop; uvs's master sends v1 as the kernel's default). */
export function encodeV0(syncid: number, conns: readonly SyncConn[]): Uint8Array {
  const size =
    V0_HEADER + conns.reduce((n, c) => n + (c.flags & CONN_F_SEQ_MASK ? V0_FULL_ENTRY : V0_ENTRY), 0);
  const buf = new Uint8Array(size);
  const v = new DataView(buf.buffer);
  v.setUint8(0, conns.length & 0xff);
  v.setUint8(1, syncid & 0xff);
  v.setUint16(2, size);
  let p = V0_HEADER;
  for (const c of conns) {
    v.setUint8(p + 1, c.protocol);
    v.setUint16(p + 2, c.cport);
    v.setUint16(p + 4, c.vport);
    v.setUint16(p + 6, c.dport);
    v.setUint32(p + 8, c.caddr.words[0] >>> 0);
    v.setUint32(p + 12, c.vaddr.words[0] >>> 0);
    v.setUint32(p + 16, c.daddr.words[0] >>> 0);
    v.setUint16(p + 20, c.flags & ~CONN_F_HASHED & 0xffff);
    v.setUint16(p + 22, c.state);
    p += V0_ENTRY;
    if (c.flags & CONN_F_SEQ_MASK) {
      const s = c.seq ?? { in: [0, 0, 0], out: [0, 0, 0] };
      putSeq(v, putSeq(v, p, s.in), s.out);
      p += V0_FULL_ENTRY - V0_ENTRY;
    }
  }
  return buf;
}
