/**
 * One parse of a whole frame into a FrameView: numbers and offsets into the same Uint8Array, never
 * copies. The hot path keeps one FrameView per worker and calls `parseFrame` on it for every frame, so
 * parsing allocates nothing. Bad input is a Reason code, never an exception.
 */

import { parseArp } from "./arp.ts";
import { ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, parseEthernet } from "./ethernet.ts";
import { IPPROTO_ICMP, IPPROTO_ICMPV6, icmpChecksumOk, parseIcmp } from "./icmp.ts";
import { parseIpv4 } from "./ipv4.ts";
import { parseIpv6 } from "./ipv6.ts";
import { Reason } from "./reasons.ts";
import { parseTcp, tcpChecksumOk } from "./tcp.ts";
import { parseUdp, udpChecksumOk } from "./udp.ts";

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** Parse flag: verify the TCP/UDP/ICMP checksum (leave off for CHECKSUM_PARTIAL or NIC-verified frames). */
export const VERIFY_L4 = 1;

const EMPTY = new Uint8Array(0);

/** A parsed frame. Fields past the layer where parsing stopped keep stale values: check `reason` and `ipVersion`. */
export class FrameView {
  buf: Uint8Array = EMPTY;
  /** Frame length (bytes of `buf` that belong to this frame). */
  len = 0;
  /** Reason from the last parse (Reason.OK when every present layer parsed). */
  reason = 0;
  /** 802.1Q VLAN id, -1 untagged. */
  vlan = -1;
  ethType = 0;
  l3Off = 0;
  /** 4, 6, or 0 for ARP and anything else. */
  ipVersion = 0;
  ipHdrLen = 0;
  /** Offset one past the IP datagram (excludes Ethernet padding). */
  ipEnd = 0;
  ipOptions = false;
  df = false;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl = 0;
  proto = 0;
  /** IPv4 addresses as host-order u32 (ARP: sender and target protocol address); 0 for IPv6. */
  saddr = 0;
  daddr = 0;
  /** Where the addresses sit in `buf` (4 or 16 bytes, addrLen). */
  saddrOff = 0;
  daddrOff = 0;
  addrLen = 0;
  l4Off = 0;
  /** L4 length: IP payload, or the UDP length field for UDP. */
  l4Len = 0;
  sport = 0;
  dport = 0;
  tcpFlags = 0;
  arpOp = 0;
  icmpType = -1;
  icmpCode = -1;
  icmpError = false;
  /** Embedded packet of an ICMP error: proto 6/17, or -1 when there is none to follow. */
  innerProto = -1;
  innerOff = 0;
  innerSaddr = 0;
  innerDaddr = 0;
  innerSaddrOff = 0;
  innerDaddrOff = 0;
  innerL4Off = 0;
  innerSport = 0;
  innerDport = 0;
}

/**
 * Parse `buf[0, len)` into `v` (reused). Returns and stores a Reason. With VERIFY_L4 in `flags` the
 * TCP/UDP/ICMP checksum is checked too; the IPv4 header checksum always is.
 */
export function parseFrame(buf: Uint8Array, len: number, v: FrameView, flags = 0): number {
  v.buf = buf;
  v.len = len = Math.min(len, buf.length);
  v.ipVersion = 0;
  v.ipOptions = false;
  v.proto = 0;
  v.icmpType = -1;
  v.icmpError = false;
  v.innerProto = -1;
  let r = parseEthernet(buf, len, v);
  if (r === Reason.OK) r = parseL3(buf, len, v, flags);
  v.reason = r;
  return r;
}

function parseL3(buf: Uint8Array, len: number, v: FrameView, flags: number): number {
  const t = v.ethType;
  if (t === ETH_P_ARP) return parseArp(buf, len, v);
  let r: number;
  if (t === ETH_P_IP) r = parseIpv4(buf, len, v);
  else if (t === ETH_P_IPV6) r = parseIpv6(buf, len, v);
  else return Reason.UNSUPPORTED_ETHERTYPE;
  return r === Reason.OK ? parseL4(buf, v, flags) : r;
}

function parseL4(buf: Uint8Array, v: FrameView, flags: number): number {
  const p = v.proto;
  const verify = (flags & VERIFY_L4) !== 0;
  let r: number;
  if (p === IPPROTO_TCP) {
    r = parseTcp(buf, v);
    if (r === Reason.OK && verify && !tcpChecksumOk(buf, v)) r = Reason.BAD_L4_CHECKSUM;
  } else if (p === IPPROTO_UDP) {
    r = parseUdp(buf, v);
    if (r === Reason.OK && verify && !udpChecksumOk(buf, v)) r = Reason.BAD_L4_CHECKSUM;
  } else if ((p === IPPROTO_ICMP && v.ipVersion === 4) || (p === IPPROTO_ICMPV6 && v.ipVersion === 6)) {
    r = parseIcmp(buf, v);
    if (r === Reason.OK && verify && !icmpChecksumOk(buf, v)) r = Reason.BAD_L4_CHECKSUM;
  } else {
    r = Reason.UNSUPPORTED_PROTOCOL;
  }
  return r;
}

/** A fresh view over `buf` (tests and slow paths; the hot path reuses one FrameView). */
export function parse(buf: Uint8Array, len = buf.length, flags = 0): FrameView {
  const v = new FrameView();
  parseFrame(buf, len, v, flags);
  return v;
}
