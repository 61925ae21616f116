/**
 * The forwarding rewrites of the director, in place on the frame of a FrameView (or into `out` for
 * encapsulation): DR (MAC rewrite), NAT in/out with incremental checksums (RFC 1624), ICMP errors that
 * follow a NAT flow, IPIP tunnelling (RFC 2003) with MTU handling, and checksum completion for
 * CHECKSUM_PARTIAL frames. Every function assumes `v` parsed with Reason.OK for the layers it touches.
 */
import {
  completePartialChecksum,
  csumAdd,
  csumFinish,
  csumReplace16,
  csumReplace32,
  csumReplaceBytes,
  rd16,
  wr16,
} from "./checksum.ts";
import { ETH_HLEN, ETH_P_IP, setMacs, writeEthernet } from "./ethernet.ts";
import { type FrameView, IPPROTO_TCP, IPPROTO_UDP } from "./frame.ts";
import { icmpChecksumRefresh } from "./icmp.ts";
import { IP_DF, IP_MF, IPPROTO_IPIP, IPV4_HLEN, rewriteAddrV4, writeIpv4 } from "./ipv4.ts";
import { l4PseudoSum, TCP_CSUM_OFF } from "./tcp.ts";
import { UDP_CSUM_OFF } from "./udp.ts";

/** DR (-g): same IP packet, new L2 addresses: the real server's MAC and ours (ip_vs_dr_xmit). */
export function rewriteDr(v: FrameView, dstMac: Uint8Array, srcMac: Uint8Array): void {
  setMacs(v.buf, dstMac, srcMac);
}

/** Offset of the L4 checksum field for TCP/UDP at `l4Off`, -1 for other protocols. */
function l4CsumOff(proto: number, l4Off: number): number {
  if (proto === IPPROTO_TCP) return l4Off + TCP_CSUM_OFF;
  if (proto === IPPROTO_UDP) return l4Off + UDP_CSUM_OFF;
  return -1;
}

/**
 * Port at `portOff` ← `port`, and the L4 checksum at `csumOff` follows the address change (old → now,
 * pseudo-header) and the port change (RFC 1624 eqn. 3). A zero UDP checksum stays zero (RFC 768: none).
 */
function fixL4(
  buf: Uint8Array,
  proto: number,
  csumOff: number,
  portOff: number,
  old: number,
  now: number,
  port: number,
): void {
  const oldPort = rd16(buf, portOff);
  wr16(buf, portOff, port);
  if (csumOff < 0) return;
  let c = rd16(buf, csumOff);
  if (proto === IPPROTO_UDP && c === 0) return;
  c = csumReplace16(csumReplace32(c, old, now), oldPort, port);
  // RFC 768: a computed UDP checksum of zero is transmitted as all ones.
  if (proto === IPPROTO_UDP && c === 0) c = 0xffff;
  wr16(buf, csumOff, c);
}

/** NAT in (-m), IPv4: destination VIP:vport → real server `addr:port`, both checksums updated. */
export function natDstV4(v: FrameView, addr: number, port: number): void {
  const buf = v.buf;
  const old = rewriteAddrV4(buf, v.l3Off, v.daddrOff, addr);
  fixL4(buf, v.proto, l4CsumOff(v.proto, v.l4Off), v.l4Off + 2, old, addr, port);
  v.daddr = addr;
  v.dport = port;
}

/** NAT out (-m), IPv4: a real server's reply gets its source back as VIP:vport (`addr:port`). */
export function natSrcV4(v: FrameView, addr: number, port: number): void {
  const buf = v.buf;
  const old = rewriteAddrV4(buf, v.l3Off, v.saddrOff, addr);
  fixL4(buf, v.proto, l4CsumOff(v.proto, v.l4Off), v.l4Off, old, addr, port);
  v.saddr = addr;
  v.sport = port;
}

/** IPv6 address at `addrOff` ← 16 bytes of `addr`, and port ← `port`, L4 checksum updated (no IP checksum in IPv6). */
function natV6(v: FrameView, addrOff: number, portOff: number, addr: Uint8Array, port: number): void {
  const buf = v.buf;
  const cOff = l4CsumOff(v.proto, v.l4Off);
  const oldPort = rd16(buf, portOff);
  if (cOff >= 0) {
    // RFC 8200 §8.1: the pseudo-header covers both addresses; UDP checksums are mandatory over IPv6.
    let c = csumReplaceBytes(rd16(buf, cOff), buf, addrOff, addr, 0, 16);
    c = csumReplace16(c, oldPort, port);
    if (v.proto === IPPROTO_UDP && c === 0) c = 0xffff;
    wr16(buf, cOff, c);
  }
  buf.set(addr.subarray(0, 16), addrOff);
  wr16(buf, portOff, port);
}

/** NAT in, IPv6: destination → `addr` (16 bytes) `:port`. */
export function natDstV6(v: FrameView, addr: Uint8Array, port: number): void {
  natV6(v, v.daddrOff, v.l4Off + 2, addr, port);
  v.dport = port;
}

/** NAT out, IPv6: source → `addr` (16 bytes) `:port`. */
export function natSrcV6(v: FrameView, addr: Uint8Array, port: number): void {
  natV6(v, v.saddrOff, v.l4Off, addr, port);
  v.sport = port;
}

/**
 * An ICMPv4 error toward the VIP about a packet VIP:vport → client, forwarded to a NAT real server
 * (ip_vs_nat_icmp, inbound): outer destination → `addr`, embedded source → `addr:port` (embedded IP
 * checksum and, when quoted, embedded L4 checksum updated incrementally), ICMP checksum recomputed.
 */
export function natIcmpInV4(v: FrameView, addr: number, port: number): void {
  const buf = v.buf;
  rewriteAddrV4(buf, v.l3Off, v.daddrOff, addr);
  v.daddr = addr;
  const old = rewriteAddrV4(buf, v.innerOff, v.innerSaddrOff, addr);
  fixL4(buf, v.innerProto, innerCsumOff(v), v.innerL4Off, old, addr, port);
  v.innerSaddr = addr;
  v.innerSport = port;
  icmpChecksumRefresh(buf, v);
}

/**
 * An ICMPv4 error from a NAT real server about a packet client → rip:rport, sent on to the client
 * (ip_vs_nat_icmp, outbound): outer source → VIP `addr`, embedded destination → `addr:port`.
 */
export function natIcmpOutV4(v: FrameView, addr: number, port: number): void {
  const buf = v.buf;
  rewriteAddrV4(buf, v.l3Off, v.saddrOff, addr);
  v.saddr = addr;
  const old = rewriteAddrV4(buf, v.innerOff, v.innerDaddrOff, addr);
  fixL4(buf, v.innerProto, innerCsumOff(v), v.innerL4Off + 2, old, addr, port);
  v.innerDaddr = addr;
  v.innerDport = port;
  icmpChecksumRefresh(buf, v);
}

/** The embedded L4 checksum offset when the quote is long enough to hold it, else -1 (left alone). */
function innerCsumOff(v: FrameView): number {
  const off = l4CsumOff(v.innerProto, v.innerL4Off);
  return off >= 0 && off + 2 <= v.ipEnd ? off : -1;
}

/**
 * Complete the TCP/UDP checksum of a CHECKSUM_PARTIAL frame (the field holds the pseudo-header sum):
 * call before any rewrite when the receive side reported the checksum as not ready.
 */
export function completeL4Checksum(v: FrameView): void {
  const off = l4CsumOff(v.proto, v.l4Off);
  if (off < 0) return;
  completePartialChecksum(v.buf, v.l4Off, v.l4Off + v.l4Len, off - v.l4Off, v.proto === IPPROTO_UDP);
}

/** Compute the TCP/UDP checksum from scratch (RFC 9293 §3.1, RFC 768) whatever the field held. */
export function refreshL4Checksum(v: FrameView): void {
  const off = l4CsumOff(v.proto, v.l4Off);
  if (off < 0) return;
  const buf = v.buf;
  wr16(buf, off, 0);
  let c = csumFinish(csumAdd(buf, v.l4Off, v.l4Len, l4PseudoSum(buf, v, v.l4Len)));
  if (v.proto === IPPROTO_UDP && c === 0) c = 0xffff;
  wr16(buf, off, c);
}

/** encapIpip results below zero. */
export const TUN_FRAG_NEEDED = -1;
export const TUN_TOO_BIG = -2;
export const TUN_NO_ROOM = -3;
export const TUN_NOT_IPV4 = -4;

export interface TunnelParams {
  /** Next hop toward the real server (its MAC when on-link). */
  dstMac: Uint8Array;
  srcMac: Uint8Array;
  /** Outer source: the director's address; outer destination: the real server. */
  saddr: number;
  daddr: number;
  /** MTU of the egress link (outer IP datagram limit). */
  mtu: number;
  /** Outer IP identification. */
  id: number;
}

/**
 * TUN (-i): RFC 2003 IPIP. Writes Ethernet + a fresh outer IPv4 header + the inner datagram to `out`
 * and returns the frame length, or: TUN_FRAG_NEEDED (too big for `mtu` with DF set: answer with
 * buildFragNeeded(v, out, mtu - 20)), TUN_TOO_BIG (DF clear: use encapIpipFragments), TUN_NO_ROOM,
 * TUN_NOT_IPV4.
 */
export function encapIpip(v: FrameView, out: Uint8Array, p: TunnelParams): number {
  if (v.ipVersion !== 4) return TUN_NOT_IPV4;
  const inner = v.ipEnd - v.l3Off;
  const total = IPV4_HLEN + inner;
  // RFC 2003 §5.1: a datagram with DF set that does not fit gets ICMP fragmentation needed.
  if (total > p.mtu) return v.df ? TUN_FRAG_NEEDED : TUN_TOO_BIG;
  if (out.length < ETH_HLEN + total) return TUN_NO_ROOM;
  const off = writeOuter(v, out, p, total, v.df ? IP_DF : 0);
  out.set(v.buf.subarray(v.l3Off, v.ipEnd), off);
  return off + inner;
}

/**
 * Ethernet + outer IPv4 header. RFC 2003 §3.1: DF copied from the inner header (ip_vs_xmit.c does the
 * same), TTL as the inner one (ip_vs_prepare_tunneled_skb), TOS copied (RFC 6040 §4.1 normal mode
 * copies the ECN field; DSCP copied as in RFC 2983's uniform model).
 */
function writeOuter(v: FrameView, out: Uint8Array, p: TunnelParams, total: number, frag: number): number {
  writeEthernet(out, p.dstMac, p.srcMac, ETH_P_IP);
  return writeIpv4(out, ETH_HLEN, {
    tos: v.buf[v.l3Off + 1],
    totalLength: total,
    id: p.id,
    frag,
    ttl: v.ttl,
    proto: IPPROTO_IPIP,
    saddr: p.saddr,
    daddr: p.daddr,
  });
}

/**
 * TUN for an inner datagram with DF clear that does not fit: fragment the outer datagram (RFC 791
 * §3.2: every fragment but the last carries a multiple of 8 data bytes and MF; offsets in 8-byte
 * units). Writes fragment i to outs[i] and its length to lens[i]; returns the count, or 0 when `outs`
 * has too few or too small buffers or the MTU cannot carry 8 data bytes. Slow path.
 */
export function encapIpipFragments(
  v: FrameView,
  outs: Uint8Array[],
  lens: number[],
  p: TunnelParams,
): number {
  if (v.ipVersion !== 4) return 0;
  const maxData = ((p.mtu - IPV4_HLEN) >> 3) << 3;
  if (maxData < 8) return 0;
  let pos = v.l3Off;
  let n = 0;
  while (pos < v.ipEnd) {
    const chunk = Math.min(maxData, v.ipEnd - pos);
    const out = outs[n];
    if (!out || out.length < ETH_HLEN + IPV4_HLEN + chunk) return 0;
    const more = pos + chunk < v.ipEnd ? IP_MF : 0;
    const off = writeOuter(v, out, p, IPV4_HLEN + chunk, more | ((pos - v.l3Off) >> 3));
    out.set(v.buf.subarray(pos, pos + chunk), off);
    lens[n++] = off + chunk;
    pos += chunk;
  }
  return n;
}
