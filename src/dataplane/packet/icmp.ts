/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443): header parse, the embedded packet of an error (to find the
 * flow it belongs to), and the two errors the director originates: fragmentation needed (RFC 1191)
 * and packet too big (RFC 4443 §3.2).
 */
import { csumAdd, csumFinish, internetChecksum, pseudoSumV6, rd16, rd32, wr16, wr32 } from "./checksum.ts";
import type { FrameView } from "./frame.ts";
import { IP_OFFMASK, IPV4_HLEN, writeIpv4 } from "./ipv4.ts";
import { IPV6_HLEN, writeIpv6 } from "./ipv6.ts";
import { Reason } from "./reasons.ts";

export const ICMP_HLEN = 8;
export const IPPROTO_ICMP = 1;
export const IPPROTO_ICMPV6 = 58;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_FRAG_NEEDED = 4;
export const ICMPV6_PKT_TOOBIG = 2;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
/** RFC 1812 §4.3.2.3: an ICMP error carries as much of the original as fits in 576 bytes. */
const ICMP_ERROR_MAX = 576;
/** RFC 4443 §2.4 (c): as much of the invoking packet as fits in the IPv6 minimum MTU. */
const ICMPV6_ERROR_MAX = 1280;

/** Parse the ICMP/ICMPv6 header at v.l4Off and, for an error, the embedded IP header and ports. */
export function parseIcmp(buf: Uint8Array, v: FrameView): number {
  if (v.l4Len < ICMP_HLEN) return Reason.TRUNCATED;
  const type = buf[v.l4Off];
  v.icmpType = type;
  v.icmpCode = buf[v.l4Off + 1];
  v.sport = 0;
  v.dport = 0;
  v.tcpFlags = 0;
  // ip_vs_core.c ip_vs_in_icmp follows only DEST_UNREACH, SOURCE_QUENCH and TIME_EXCEEDED (ICMPv4);
  // RFC 4443 §2.1: ICMPv6 types 0..127 are errors.
  v.icmpError =
    v.ipVersion === 4
      ? type === ICMP_DEST_UNREACH || type === ICMP_SOURCE_QUENCH || type === ICMP_TIME_EXCEEDED
      : type < 128;
  v.innerProto = -1;
  if (v.icmpError) {
    if (v.ipVersion === 4) parseInnerV4(buf, v);
    else parseInnerV6(buf, v);
  }
  return Reason.OK;
}

/** RFC 792: the error carries the original IP header and at least the first 8 bytes of its payload. */
function parseInnerV4(buf: Uint8Array, v: FrameView): void {
  const off = v.l4Off + ICMP_HLEN;
  const avail = v.ipEnd - off;
  if (avail < IPV4_HLEN || buf[off] >> 4 !== 4) return;
  const ihl = (buf[off] & 15) << 2;
  if (ihl < IPV4_HLEN || avail < ihl + 4) return;
  if ((rd16(buf, off + 6) & IP_OFFMASK) !== 0) return; // a later fragment has no ports
  const proto = buf[off + 9];
  if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return;
  v.innerOff = off;
  v.innerProto = proto;
  v.innerSaddrOff = off + 12;
  v.innerDaddrOff = off + 16;
  v.innerSaddr = rd32(buf, off + 12);
  v.innerDaddr = rd32(buf, off + 16);
  v.innerL4Off = off + ihl;
  v.innerSport = rd16(buf, off + ihl);
  v.innerDport = rd16(buf, off + ihl + 2);
}

/** RFC 4443 §3: the invoking packet follows the 8-byte header; only TCP/UDP right after it is followed. */
function parseInnerV6(buf: Uint8Array, v: FrameView): void {
  const off = v.l4Off + ICMP_HLEN;
  if (v.ipEnd - off < IPV6_HLEN + 4 || buf[off] >> 4 !== 6) return;
  const proto = buf[off + 6];
  if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return;
  v.innerOff = off;
  v.innerProto = proto;
  v.innerSaddrOff = off + 8;
  v.innerDaddrOff = off + 24;
  v.innerSaddr = 0;
  v.innerDaddr = 0;
  v.innerL4Off = off + IPV6_HLEN;
  v.innerSport = rd16(buf, off + IPV6_HLEN);
  v.innerDport = rd16(buf, off + IPV6_HLEN + 2);
}

/** RFC 792 (no pseudo-header) / RFC 4443 §2.3 (IPv6 pseudo-header): checksum over the whole message. */
export function icmpChecksumOk(buf: Uint8Array, v: FrameView): boolean {
  if (v.ipVersion === 4) return internetChecksum(buf, v.l4Off, v.l4Len) === 0;
  const ph = pseudoSumV6(buf, v.saddrOff, v.daddrOff, IPPROTO_ICMPV6, v.l4Len);
  return csumFinish(csumAdd(buf, v.l4Off, v.l4Len, ph)) === 0;
}

/** Recompute the ICMP checksum of the view's message from scratch (after rewriting an error's payload). */
export function icmpChecksumRefresh(buf: Uint8Array, v: FrameView): void {
  wr16(buf, v.l4Off + 2, 0);
  if (v.ipVersion === 4) {
    wr16(buf, v.l4Off + 2, internetChecksum(buf, v.l4Off, v.l4Len));
    return;
  }
  const ph = pseudoSumV6(buf, v.saddrOff, v.daddrOff, IPPROTO_ICMPV6, v.l4Len);
  wr16(buf, v.l4Off + 2, csumFinish(csumAdd(buf, v.l4Off, v.l4Len, ph)));
}

/** Copy the L2 header of the offending frame into `out` with the MACs swapped (back where it came from). */
function replyL2(buf: Uint8Array, v: FrameView, out: Uint8Array): void {
  for (let i = 0; i < 6; i++) {
    out[i] = buf[6 + i];
    out[6 + i] = buf[i];
  }
  for (let i = 12; i < v.l3Off; i++) out[i] = buf[i];
}

/**
 * RFC 1191 §4 / RFC 792: "fragmentation needed and DF set" (type 3 code 4) toward the sender of the
 * frame in `v`, from the address it was sent to (the VIP), advertising `nextHopMtu`. Written to `out`
 * (needs l3Off + 576 bytes); returns the frame length, or 0 when `v` is not an IPv4 packet.
 */
export function buildFragNeeded(v: FrameView, out: Uint8Array, nextHopMtu: number, id = 0): number {
  const buf = v.buf;
  if (v.ipVersion !== 4) return 0;
  const quote = Math.min(v.ipEnd - v.l3Off, ICMP_ERROR_MAX - IPV4_HLEN - ICMP_HLEN);
  const icmpLen = ICMP_HLEN + quote;
  replyL2(buf, v, out);
  // RFC 1812 §4.3.2.5: ICMP errors use precedence 6 (Internetwork Control), TOS 0xc0.
  const l4 = writeIpv4(out, v.l3Off, {
    tos: 0xc0,
    totalLength: IPV4_HLEN + icmpLen,
    id,
    frag: 0,
    ttl: 64,
    proto: IPPROTO_ICMP,
    saddr: v.daddr,
    daddr: v.saddr,
  });
  out[l4] = ICMP_DEST_UNREACH;
  out[l4 + 1] = ICMP_FRAG_NEEDED;
  wr16(out, l4 + 2, 0);
  // RFC 1191 §4: the low 16 bits of the second word carry the Next-Hop MTU, the high 16 are unused.
  wr16(out, l4 + 4, 0);
  wr16(out, l4 + 6, nextHopMtu);
  out.set(buf.subarray(v.l3Off, v.l3Off + quote), l4 + ICMP_HLEN);
  wr16(out, l4 + 2, internetChecksum(out, l4, icmpLen));
  return l4 + icmpLen;
}

/**
 * RFC 4443 §3.2: Packet Too Big (type 2 code 0, 32-bit MTU) toward the sender of the IPv6 frame in `v`,
 * from its destination. Written to `out` (needs l3Off + 1280 bytes); returns the frame length, or 0 when
 * `v` is not IPv6.
 */
export function buildPacketTooBig(v: FrameView, out: Uint8Array, mtu: number): number {
  const buf = v.buf;
  if (v.ipVersion !== 6) return 0;
  const quote = Math.min(v.ipEnd - v.l3Off, ICMPV6_ERROR_MAX - IPV6_HLEN - ICMP_HLEN);
  const icmpLen = ICMP_HLEN + quote;
  replyL2(buf, v, out);
  const l4 = writeIpv6(out, v.l3Off, icmpLen, IPPROTO_ICMPV6, 64, buf, v.daddrOff, buf, v.saddrOff);
  out[l4] = ICMPV6_PKT_TOOBIG;
  out[l4 + 1] = 0;
  wr16(out, l4 + 2, 0);
  wr32(out, l4 + 4, mtu);
  out.set(buf.subarray(v.l3Off, v.l3Off + quote), l4 + ICMP_HLEN);
  // RFC 4443 §2.3: the ICMPv6 checksum includes the IPv6 pseudo-header.
  const ph = pseudoSumV6(out, v.l3Off + 8, v.l3Off + 24, IPPROTO_ICMPV6, icmpLen);
  wr16(out, l4 + 2, csumFinish(csumAdd(out, l4, icmpLen, ph)));
  return l4 + icmpLen;
}
