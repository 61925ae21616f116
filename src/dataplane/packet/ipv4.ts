/** IPv4 (RFC 791): header parse into the view, header writing, and the incremental address rewrite. */
import { csumReplace32, internetChecksum, rd16, rd32, wr16, wr32 } from "./checksum.ts";
import type { FrameView } from "./frame.ts";
import { Reason } from "./reasons.ts";

export const IPV4_HLEN = 20;
export const IP_DF = 0x4000;
export const IP_MF = 0x2000;
export const IP_OFFMASK = 0x1fff;
export const IPPROTO_IPIP = 4;

/**
 * Parse the IPv4 header at v.l3Off of a frame `len` bytes long. Sets addresses, ttl, proto, l4Off,
 * l4Len, ipEnd (Ethernet padding after the datagram is excluded). Returns a Reason; FRAGMENT still
 * leaves addresses and proto filled so the frame can be counted and reported.
 */
export function parseIpv4(buf: Uint8Array, len: number, v: FrameView): number {
  const off = v.l3Off;
  if (len - off < IPV4_HLEN) return Reason.TRUNCATED;
  const b0 = buf[off];
  // RFC 791 §3.1: version 4, IHL in 32-bit words and at least 5.
  if (b0 >> 4 !== 4) return Reason.MALFORMED;
  const ihl = (b0 & 15) << 2;
  if (ihl < IPV4_HLEN) return Reason.MALFORMED;
  if (len - off < ihl) return Reason.TRUNCATED;
  const tot = rd16(buf, off + 2);
  if (tot < ihl) return Reason.MALFORMED;
  if (len - off < tot) return Reason.TRUNCATED;
  v.ipVersion = 4;
  v.ipHdrLen = ihl;
  v.ipEnd = off + tot;
  v.ipOptions = ihl > IPV4_HLEN;
  v.ttl = buf[off + 8];
  v.proto = buf[off + 9];
  v.saddrOff = off + 12;
  v.daddrOff = off + 16;
  v.addrLen = 4;
  v.saddr = rd32(buf, off + 12);
  v.daddr = rd32(buf, off + 16);
  v.l4Off = off + ihl;
  v.l4Len = tot - ihl;
  const frag = rd16(buf, off + 6);
  v.df = (frag & IP_DF) !== 0;
  // RFC 1071 §4.1 verification: the sum over the header including its checksum field is all ones.
  if (internetChecksum(buf, off, ihl) !== 0) return Reason.BAD_IP_CHECKSUM;
  // RFC 791 §3.2: a fragment has MF set or a non-zero fragment offset.
  if ((frag & (IP_MF | IP_OFFMASK)) !== 0) return Reason.FRAGMENT;
  return Reason.OK;
}

/** Replace the 32-bit address at `addrOff` of the header at `l3Off`, updating its checksum (RFC 1624). */
export function rewriteAddrV4(buf: Uint8Array, l3Off: number, addrOff: number, addr: number): number {
  const old = rd32(buf, addrOff);
  wr32(buf, addrOff, addr);
  wr16(buf, l3Off + 10, csumReplace32(rd16(buf, l3Off + 10), old, addr));
  return old;
}

export interface Ipv4Header {
  tos: number;
  totalLength: number;
  id: number;
  /** Flags and fragment offset as on the wire (IP_DF, IP_MF, offset in 8-byte units). */
  frag: number;
  ttl: number;
  proto: number;
  saddr: number;
  daddr: number;
}

/** Write a 20-byte header (no options) with a fresh checksum at `off`; returns the offset after it. */
export function writeIpv4(out: Uint8Array, off: number, h: Ipv4Header): number {
  out[off] = 0x45;
  out[off + 1] = h.tos;
  wr16(out, off + 2, h.totalLength);
  wr16(out, off + 4, h.id);
  wr16(out, off + 6, h.frag);
  out[off + 8] = h.ttl;
  out[off + 9] = h.proto;
  wr16(out, off + 10, 0);
  wr32(out, off + 12, h.saddr);
  wr32(out, off + 16, h.daddr);
  wr16(out, off + 10, internetChecksum(out, off, IPV4_HLEN));
  return off + IPV4_HLEN;
}

/** Dotted quad of a host-order u32 (for messages and tests). */
export function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
