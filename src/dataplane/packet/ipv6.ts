/** IPv6 (RFC 8200): fixed header and the extension-header walk, as far as the director needs. */
import { rd16, wr16 } from "./checksum.ts";
import type { FrameView } from "./frame.ts";
import { Reason } from "./reasons.ts";

export const IPV6_HLEN = 40;
const NEXTHDR_HOP = 0;
const NEXTHDR_ROUTING = 43;
const NEXTHDR_FRAGMENT = 44;
const NEXTHDR_DEST = 60;

/**
 * Parse the IPv6 header at v.l3Off. Hop-by-Hop, Routing and Destination Options headers are skipped
 * (RFC 8200 §4: each is 8 + 8·HdrExtLen bytes) and flagged as ipOptions; a Fragment header stops the
 * walk with Reason.FRAGMENT. v.ttl is the hop limit.
 */
export function parseIpv6(buf: Uint8Array, len: number, v: FrameView): number {
  const off = v.l3Off;
  if (len - off < IPV6_HLEN) return Reason.TRUNCATED;
  if (buf[off] >> 4 !== 6) return Reason.MALFORMED;
  const plen = rd16(buf, off + 4);
  // RFC 8200 §3: payload length excludes the fixed header; 0 only with a Jumbo option (RFC 2675).
  if (len - off - IPV6_HLEN < plen) return Reason.TRUNCATED;
  v.ipVersion = 6;
  v.ipHdrLen = IPV6_HLEN;
  v.ipEnd = off + IPV6_HLEN + plen;
  v.ttl = buf[off + 7];
  v.saddrOff = off + 8;
  v.daddrOff = off + 24;
  v.addrLen = 16;
  v.saddr = 0;
  v.daddr = 0;
  v.df = true; // RFC 8200 §5: routers never fragment IPv6
  v.ipOptions = false;
  let nh = buf[off + 6];
  let p = off + IPV6_HLEN;
  while (nh === NEXTHDR_HOP || nh === NEXTHDR_ROUTING || nh === NEXTHDR_DEST || nh === NEXTHDR_FRAGMENT) {
    if (v.ipEnd - p < 8) return Reason.TRUNCATED;
    if (nh === NEXTHDR_FRAGMENT) {
      v.proto = buf[p];
      return Reason.FRAGMENT;
    }
    v.ipOptions = true;
    nh = buf[p];
    p += (buf[p + 1] + 1) << 3;
    if (p > v.ipEnd) return Reason.TRUNCATED;
  }
  v.proto = nh;
  v.l4Off = p;
  v.l4Len = v.ipEnd - p;
  return Reason.OK;
}

/** Write a 40-byte IPv6 header at `off` (traffic class and flow label zero); returns the offset after it. */
export function writeIpv6(
  out: Uint8Array,
  off: number,
  payloadLen: number,
  nextHeader: number,
  hopLimit: number,
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
): number {
  out[off] = 0x60;
  out[off + 1] = 0;
  out[off + 2] = 0;
  out[off + 3] = 0;
  wr16(out, off + 4, payloadLen);
  out[off + 6] = nextHeader;
  out[off + 7] = hopLimit;
  out.set(src.subarray(srcOff, srcOff + 16), off + 8);
  out.set(dst.subarray(dstOff, dstOff + 16), off + 24);
  return off + IPV6_HLEN;
}
