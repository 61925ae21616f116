/**
 * The Internet checksum (RFC 1071), its incremental update (RFC 1624) and the TCP/UDP pseudo-headers
 * (RFC 793 §3.1, RFC 768, RFC 8200 §8.1). Sums are kept as unfolded non-negative numbers; `csumFold`
 * turns one into the 16-bit ones'-complement sum, and a checksum field holds its complement.
 * All functions are pure byte math over a Uint8Array: no DataView, no allocation.
 */

/** RFC 1071 §4.1: fold the carries back in until the sum fits 16 bits. */
export function csumFold(sum: number): number {
  let s = sum;
  if (s > 0xffffffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** RFC 1071: add the bytes [off, off+len) as big-endian 16-bit words to `initial` (odd tail padded). */
export function csumAdd(buf: Uint8Array, off: number, len: number, initial = 0): number {
  let s = initial;
  const end = off + (len & ~1);
  let i = off;
  for (; i + 8 <= end; i += 8) {
    s += ((buf[i] << 8) | buf[i + 1]) + ((buf[i + 2] << 8) | buf[i + 3]);
    s += ((buf[i + 4] << 8) | buf[i + 5]) + ((buf[i + 6] << 8) | buf[i + 7]);
  }
  for (; i < end; i += 2) s += (buf[i] << 8) | buf[i + 1];
  // RFC 1071 §4.1: an odd trailing byte is padded with a zero byte on the right.
  if (len & 1) s += buf[off + len - 1] << 8;
  return s;
}

/** The value to store in a checksum field: the complement of the folded sum. */
export function csumFinish(sum: number): number {
  return ~csumFold(sum) & 0xffff;
}

/** RFC 1071: the checksum of [off, off+len) alone (the IPv4 header checksum, ICMP). */
export function internetChecksum(buf: Uint8Array, off: number, len: number): number {
  return csumFinish(csumAdd(buf, off, len));
}

/** RFC 793 §3.1 / RFC 768: IPv4 pseudo-header sum (source, destination, zero+protocol, L4 length). */
export function pseudoSumV4(saddr: number, daddr: number, proto: number, l4Len: number): number {
  return (saddr >>> 16) + (saddr & 0xffff) + (daddr >>> 16) + (daddr & 0xffff) + proto + l4Len;
}

/** RFC 8200 §8.1: IPv6 pseudo-header sum; addresses read from `buf` at the two offsets. */
export function pseudoSumV6(
  buf: Uint8Array,
  saddrOff: number,
  daddrOff: number,
  proto: number,
  l4Len: number,
): number {
  const s = csumAdd(buf, saddrOff, 16, csumAdd(buf, daddrOff, 16));
  return s + (l4Len >>> 16) + (l4Len & 0xffff) + proto;
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit field changing from `old` to `now`.
 * Gives the same value as a full recomputation (never the 0xffff "negative zero" of eqn. 2).
 */
export function csumReplace16(check: number, old: number, now: number): number {
  const s = (~check & 0xffff) + (~old & 0xffff) + (now & 0xffff);
  return ~csumFold(s) & 0xffff;
}

/** RFC 1624 eqn. 3 applied to a 32-bit field (an IPv4 address) as two 16-bit words. */
export function csumReplace32(check: number, old: number, now: number): number {
  const s = (~check & 0xffff) + (~old >>> 16) + (~old & 0xffff) + (now >>> 16) + (now & 0xffff);
  return ~csumFold(s) & 0xffff;
}

/** RFC 1624 eqn. 3 for a run of bytes (an IPv6 address): old bytes from `oldBuf`, new from `newBuf`. */
export function csumReplaceBytes(
  check: number,
  oldBuf: Uint8Array,
  oldOff: number,
  newBuf: Uint8Array,
  newOff: number,
  len: number,
): number {
  let s = ~check & 0xffff;
  for (let i = 0; i < len; i += 2) {
    s +=
      (~((oldBuf[oldOff + i] << 8) | oldBuf[oldOff + i + 1]) & 0xffff) +
      ((newBuf[newOff + i] << 8) | newBuf[newOff + i + 1]);
  }
  return ~csumFold(s) & 0xffff;
}

/** Read a big-endian u16. */
export function rd16(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

/** Write a big-endian u16. */
export function wr16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

/** Read a big-endian u32 as an unsigned number. */
export function rd32(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** Write a big-endian u32. */
export function wr32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/**
 * Complete a CHECKSUM_PARTIAL frame (Linux skbuff.h): the field at `start + csumOffset` already holds
 * the folded pseudo-header sum (not complemented), so summing [start, end) including that field and
 * complementing gives the full checksum. `start` is the L4 offset (csum_start), `csumOffset` 16 for
 * TCP, 6 for UDP (csum_offset). A UDP result of 0 is sent as 0xffff (RFC 768).
 */
export function completePartialChecksum(
  buf: Uint8Array,
  start: number,
  end: number,
  csumOffset: number,
  isUdp: boolean,
): void {
  let c = internetChecksum(buf, start, end - start);
  if (isUdp && c === 0) c = 0xffff;
  wr16(buf, start + csumOffset, c);
}
