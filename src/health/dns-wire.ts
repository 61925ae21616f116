/** The few bytes of RFC 1035 the DNS checks need: a query, and a reply's header and answers. */
import { table } from "../util/table.ts";

export const DNS_TYPE_CODES: Readonly<Record<string, number>> = table({
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  RRSIG: 46,
  DNSKEY: 48,
});

/** A query with RD set, class IN. */
export function buildQuery(id: number, name: string, type: number): Uint8Array {
  const labels = name.split(".").filter(Boolean);
  const qname: number[] = [];
  for (const l of labels) {
    const b = new TextEncoder().encode(l).subarray(0, 63);
    qname.push(b.length, ...b);
  }
  qname.push(0);
  const out = new Uint8Array(12 + qname.length + 4);
  const v = new DataView(out.buffer);
  v.setUint16(0, id);
  v.setUint16(2, 0x0100); // RD
  v.setUint16(4, 1); // QDCOUNT
  out.set(qname, 12);
  v.setUint16(12 + qname.length, type);
  v.setUint16(14 + qname.length, 1); // IN
  return out;
}

export interface DnsReply {
  id: number;
  qr: boolean;
  rcode: number;
  /** Answer data as text: addresses for A/AAAA, names for PTR/CNAME/NS, else hex. */
  answers: string[];
}

/** Skip a (possibly compressed) name; the offset after it, or -1 when it runs off the end. */
function skipName(b: Uint8Array, off: number): number {
  while (off < b.length) {
    const len = b[off];
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2;
    off += len + 1;
  }
  return -1;
}

function readName(b: Uint8Array, off: number, depth = 0): string {
  const parts: string[] = [];
  while (off < b.length && depth < 16) {
    const len = b[off];
    if (len === 0) break;
    if ((len & 0xc0) === 0xc0)
      return [...parts, readName(b, ((len & 0x3f) << 8) | b[off + 1], depth + 1)].join(".");
    parts.push(new TextDecoder().decode(b.subarray(off + 1, off + 1 + len)));
    off += len + 1;
  }
  return parts.join(".");
}

function rdataText(b: Uint8Array, type: number, off: number, len: number): string {
  const d = b.subarray(off, off + len);
  if (type === 1 && len === 4) return [...d].join(".");
  if (type === 28 && len === 16) {
    const w: string[] = [];
    for (let i = 0; i < 16; i += 2) w.push(((d[i] << 8) | d[i + 1]).toString(16));
    return w.join(":");
  }
  if (type === 12 || type === 5 || type === 2) return readName(b, off);
  return Buffer.from(d).toString("hex");
}

/** The header and answers of a reply; null when it is too short to be DNS. */
export function parseReply(b: Uint8Array): DnsReply | null {
  if (b.length < 12) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const flags = v.getUint16(2);
  const reply: DnsReply = { id: v.getUint16(0), qr: (flags & 0x8000) !== 0, rcode: flags & 0xf, answers: [] };
  let off = 12;
  for (let q = v.getUint16(4); q > 0 && off >= 0; q--) off = skipName(b, off) + (off >= 0 ? 4 : 0);
  for (let a = v.getUint16(6); a > 0 && off >= 0 && off < b.length; a--) {
    off = skipName(b, off);
    if (off < 0 || off + 10 > b.length) break;
    const type = v.getUint16(off);
    const len = v.getUint16(off + 8);
    if (off + 10 + len > b.length) break;
    reply.answers.push(rdataText(b, type, off + 10, len));
    off += 10 + len;
  }
  return reply;
}
