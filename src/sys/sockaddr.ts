/** struct sockaddr_in / sockaddr_in6 to and from IpAddr + port (Linux layout, network order). */
import { type IpAddr, ipv4FromU32, ipv6FromWords } from "../model/addr.ts";

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCKADDR_MAX = 28;

/** Write addr:port into `buf` (≥ 28 bytes); returns the length to pass to bind/connect. */
export function writeSockaddr(buf: Uint8Array, addr: IpAddr, port: number, scopeId = 0): number {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  buf.fill(0, 0, SOCKADDR_MAX);
  v.setUint16(2, port, false);
  if (addr.af === "inet") {
    v.setUint16(0, AF_INET, true);
    v.setUint32(4, addr.words[0], false);
    return 16;
  }
  v.setUint16(0, AF_INET6, true);
  for (let i = 0; i < 4; i++) v.setUint32(8 + i * 4, addr.words[i], false);
  v.setUint32(24, scopeId, true);
  return 28;
}

/** The address in `buf` (a view of what accept4 filled), or null for another family. */
export function readSockaddr(v: DataView): { addr: IpAddr; port: number } | null {
  const af = v.getUint16(0, true);
  const port = v.getUint16(2, false);
  if (af === AF_INET) return { addr: ipv4FromU32(v.getUint32(4, false)), port };
  if (af !== AF_INET6) return null;
  const w = [0, 1, 2, 3].map((i) => v.getUint32(8 + i * 4, false));
  // A v4-mapped client of a dual-stack listener reads as its IPv4 address.
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return { addr: ipv4FromU32(w[3]), port };
  return { addr: ipv6FromWords(w), port };
}
