/** UDP (RFC 768): header parse and checksum verification. */
import { csumAdd, csumFinish, rd16 } from "./checksum.ts";
import type { FrameView } from "./frame.ts";
import { Reason } from "./reasons.ts";
import { l4PseudoSum } from "./tcp.ts";

export const UDP_HLEN = 8;
/** Offset of the checksum inside the UDP header (csum_offset of a CHECKSUM_PARTIAL frame). */
export const UDP_CSUM_OFF = 6;

/** Parse the UDP header at v.l4Off; v.l4Len becomes the UDP length (bytes after it are IP padding). */
export function parseUdp(buf: Uint8Array, v: FrameView): number {
  const off = v.l4Off;
  if (v.l4Len < UDP_HLEN) return Reason.TRUNCATED;
  const ulen = rd16(buf, off + 4);
  // RFC 768: Length counts header and data, so at least 8.
  if (ulen < UDP_HLEN) return Reason.MALFORMED;
  if (ulen > v.l4Len) return Reason.TRUNCATED;
  v.l4Len = ulen;
  v.sport = rd16(buf, off);
  v.dport = rd16(buf, off + 2);
  v.tcpFlags = 0;
  return Reason.OK;
}

/** RFC 768: zero means "no checksum" over IPv4; over IPv6 it is mandatory (RFC 8200 §8.1). */
export function udpChecksumOk(buf: Uint8Array, v: FrameView): boolean {
  if (rd16(buf, v.l4Off + UDP_CSUM_OFF) === 0) return v.ipVersion === 4;
  return csumFinish(csumAdd(buf, v.l4Off, v.l4Len, l4PseudoSum(buf, v, v.l4Len))) === 0;
}
