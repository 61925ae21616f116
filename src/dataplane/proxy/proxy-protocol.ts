/**
 * PROXY protocol headers (HAProxy's proxy-protocol.txt), so a real server behind the proxy plane
 * can learn the client's address. v1 is one text line for TCP; v2 is binary and also covers UDP
 * (then the header is prepended to every datagram). Only encoders: uvs sends, never receives.
 */
import type { IpAddr } from "../../model/addr.ts";

export type ProxyProtocolVersion = "v1" | "v2";

/** §2.2: the 12-byte v2 signature "\r\n\r\n\0\r\nQUIT\n". */
export const PP2_SIGNATURE = Uint8Array.of(
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
);
/** 13th byte: version 2 in the high nibble; command LOCAL (0x0) or PROXY (0x1) in the low one. */
export const PP2_VERSION_LOCAL = 0x20;
export const PP2_VERSION_PROXY = 0x21;
/** 14th byte: address family (high nibble: 1 INET, 2 INET6) and transport (low: 1 STREAM, 2 DGRAM). */
export const PP2_FAM_TCP4 = 0x11;
export const PP2_FAM_UDP4 = 0x12;
export const PP2_FAM_TCP6 = 0x21;
export const PP2_FAM_UDP6 = 0x22;
export const PP2_FAM_UNSPEC = 0x00;

/** One side of a flow. */
export interface Endpoint {
  addr: IpAddr;
  port: number;
}

/**
 * §2.1: "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n"; "PROXY UNKNOWN\r\n" when the two
 * addresses are of different families (the receiver then uses the connection's own addresses).
 */
export function encodeV1(src: Endpoint, dst: Endpoint): Uint8Array {
  if (src.addr.af !== dst.addr.af) return new TextEncoder().encode("PROXY UNKNOWN\r\n");
  const fam = src.addr.af === "inet" ? "TCP4" : "TCP6";
  const line = `PROXY ${fam} ${src.addr.text} ${dst.addr.text} ${src.port} ${dst.port}\r\n`;
  return new TextEncoder().encode(line);
}

/**
 * §2.2: signature, version/command, family/transport, 16-bit big-endian length of what follows,
 * then the address block: source address, destination address, source port, destination port
 * (12 bytes for IPv4, 36 for IPv6). Mixed families are sent as LOCAL with an empty block.
 */
export function encodeV2(transport: "tcp" | "udp", src: Endpoint, dst: Endpoint): Uint8Array {
  if (src.addr.af !== dst.addr.af) return encodeV2Local();
  const v4 = src.addr.af === "inet";
  const addrLen = v4 ? 4 : 16;
  const blockLen = 2 * addrLen + 4;
  const out = new Uint8Array(16 + blockLen);
  const view = new DataView(out.buffer);
  out.set(PP2_SIGNATURE, 0);
  out[12] = PP2_VERSION_PROXY;
  out[13] = v4
    ? transport === "tcp"
      ? PP2_FAM_TCP4
      : PP2_FAM_UDP4
    : transport === "tcp"
      ? PP2_FAM_TCP6
      : PP2_FAM_UDP6;
  view.setUint16(14, blockLen);
  writeWords(view, 16, src.addr.words);
  writeWords(view, 16 + addrLen, dst.addr.words);
  view.setUint16(16 + 2 * addrLen, src.port);
  view.setUint16(18 + 2 * addrLen, dst.port);
  return out;
}

/** A LOCAL header (no addresses): the receiver must use the connection's real endpoints. */
export function encodeV2Local(): Uint8Array {
  const out = new Uint8Array(16);
  out.set(PP2_SIGNATURE, 0);
  out[12] = PP2_VERSION_LOCAL;
  out[13] = PP2_FAM_UNSPEC;
  return out;
}

/**
 * The header a real server asked for, for a flow from `src` to `dst`. v1 has no UDP form, so a v1
 * request on a UDP flow gives null (nothing is sent; the plane warns when it is configured).
 */
export function proxyHeader(
  version: ProxyProtocolVersion,
  transport: "tcp" | "udp",
  src: Endpoint,
  dst: Endpoint,
): Uint8Array | null {
  if (version === "v2") return encodeV2(transport, src, dst);
  return transport === "tcp" ? encodeV1(src, dst) : null;
}

/** IpAddr words are host-order u32s, most significant first: network order is big-endian each. */
function writeWords(view: DataView, at: number, words: readonly number[]): void {
  for (let i = 0; i < words.length; i++) view.setUint32(at + 4 * i, words[i] >>> 0);
}
