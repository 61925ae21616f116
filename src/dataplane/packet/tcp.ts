/** TCP (RFC 9293): header parse, flags, the IPVS state event, checksum verification. */
import { type TcpEvent, tcpEventFromFlags } from "../../conntrack/states.ts";
import { csumAdd, csumFinish, pseudoSumV4, pseudoSumV6, rd16 } from "./checksum.ts";
import type { FrameView } from "./frame.ts";
import { Reason } from "./reasons.ts";

export const TCP_HLEN = 20;
/** Offset of the checksum inside the TCP header (csum_offset of a CHECKSUM_PARTIAL frame). */
export const TCP_CSUM_OFF = 16;
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** Parse the TCP header at v.l4Off: ports, flags, header length. */
export function parseTcp(buf: Uint8Array, v: FrameView): number {
  const off = v.l4Off;
  if (v.l4Len < TCP_HLEN) return Reason.TRUNCATED;
  // RFC 9293 §3.1: Data Offset counts 32-bit words, at least 5.
  const doff = (buf[off + 12] >> 4) << 2;
  if (doff < TCP_HLEN) return Reason.MALFORMED;
  if (doff > v.l4Len) return Reason.TRUNCATED;
  v.sport = rd16(buf, off);
  v.dport = rd16(buf, off + 2);
  v.tcpFlags = buf[off + 13];
  return Reason.OK;
}

/** The IPVS state-table event of this segment (RST > SYN > FIN > ACK), null when none is set. */
export function tcpEvent(v: FrameView): TcpEvent | null {
  const f = v.tcpFlags;
  return tcpEventFromFlags(
    (f & TCP_SYN) !== 0,
    (f & TCP_FIN) !== 0,
    (f & TCP_ACK) !== 0,
    (f & TCP_RST) !== 0,
  );
}

/**
 * May this segment create a connection? ip_vs_proto_tcp.c tcp_conn_schedule: SYN and not RST (SYN+ACK
 * is allowed there for active FTP).
 */
export function tcpCanCreate(v: FrameView): boolean {
  return (v.tcpFlags & (TCP_SYN | TCP_RST)) === TCP_SYN;
}

/** Sum of the L4 pseudo-header of the view's packet (IPv4 or IPv6) for `l4Len` bytes. */
export function l4PseudoSum(buf: Uint8Array, v: FrameView, l4Len: number): number {
  return v.ipVersion === 4
    ? pseudoSumV4(v.saddr, v.daddr, v.proto, l4Len)
    : pseudoSumV6(buf, v.saddrOff, v.daddrOff, v.proto, l4Len);
}

/** RFC 9293 §3.1: the checksum over pseudo-header + segment is zero when the segment is intact. */
export function tcpChecksumOk(buf: Uint8Array, v: FrameView): boolean {
  return csumFinish(csumAdd(buf, v.l4Off, v.l4Len, l4PseudoSum(buf, v, v.l4Len))) === 0;
}
