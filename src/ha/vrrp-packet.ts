/**
 * VRRP advertisements on the wire: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798) messages, and the IPv4
 * header keepalived puts in front of them. Pure: bytes in, typed values out, and back. Decoding
 * never throws; it returns the advert or the reason it was refused (spec keepalived.md §3.3–3.4).
 */
import { type IpAddr, ipv4FromU32, ipv6FromWords } from "../model/addr.ts";

/** IP protocol number of VRRP (RFC 5798 §5.1.1.4). */
export const IPPROTO_VRRP = 112;
/** The IPv4 multicast group (RFC 5798 §5.1.1.2); keepalived's vrrp_mcast_group4 default. */
export const VRRP_MCAST4 = ipv4FromU32(0xe0000012);
/** The IPv6 multicast group ff02::12. */
export const VRRP_MCAST6 = ipv6FromWords([0xff020000, 0, 0, 0x12]);
/** TTL / hop limit every advert is sent with and multicast adverts must arrive with (RFC 5798 §5.1.1.3). */
export const VRRP_TTL = 255;

export type VrrpVersion = 2 | 3;

/** The advertisement, version-neutral. */
export interface VrrpAdvert {
  version: VrrpVersion;
  vrid: number;
  /** 0 = the master is stopping, 255 = address owner. */
  priority: number;
  /** Advertisement interval in centiseconds. v2 carries whole seconds: a multiple of 100. */
  intervalCs: number;
  family: "inet" | "inet6";
  /** The virtual addresses, in the order they are carried. */
  addrs: IpAddr[];
  /** v2 only: 0 none, 1 simple text password (PASS), 2 IP AH. Always 0 for v3. */
  authType: number;
  /** v2 only: the 8 authentication bytes (PASS: the password, zero-padded). Empty for v3. */
  authData: Uint8Array;
}

/** Why a message was refused; each names keepalived's check (spec §3.4). */
export type DecodeError = "short" | "version" | "type" | "length" | "family" | "checksum" | "zero-interval";

export type DecodeResult =
  | {
      ok: true;
      advert: VrrpAdvert;
      /** v3/IPv4: whether the checksum covered the pseudo-header ("pseudo") or only the message ("plain"). */
      checksumForm: "pseudo" | "plain";
    }
  | { ok: false; error: DecodeError; detail: string };

/** Addressing the checksum needs: the IP source and destination of the datagram. */
export interface VrrpAddressing {
  src: IpAddr;
  dst: IpAddr;
}

/** How a v3 IPv4 checksum is computed when sending (spec §3.3: keepalived default is "pseudo"). */
export type V3ChecksumMode = "pseudo" | "plain";

const AUTH_LEN = 8;

/** RFC 1071 one's-complement sum of 16-bit words, folded; `odd` bytes are padded with zero. */
export function onesSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  const n = bytes.length;
  for (let i = 0; i + 1 < n; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (n & 1) sum += bytes[n - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The Internet checksum (RFC 1071): the complement of the one's-complement sum. */
export function internetChecksum(bytes: Uint8Array, initial = 0): number {
  return ~onesSum(bytes, initial) & 0xffff;
}

function addrBytes(a: IpAddr): Uint8Array {
  const out = new Uint8Array(a.words.length * 4);
  const dv = new DataView(out.buffer);
  a.words.forEach((w, i) => {
    dv.setUint32(i * 4, w >>> 0);
  });
  return out;
}

/** Sum of the pseudo-header: IPv4 `src dst 0 112 len` (RFC 5798 §5.2.8), IPv6 per RFC 8200 §8.1. */
function pseudoSum(ad: VrrpAddressing, len: number): number {
  const src = addrBytes(ad.src);
  const dst = addrBytes(ad.dst);
  const tail = ad.src.af === "inet" ? [0, IPPROTO_VRRP, len >> 8, len & 255] : [0, 0, len >> 8, len & 255];
  const ph = new Uint8Array(src.length + dst.length + tail.length + (ad.src.af === "inet" ? 0 : 4));
  ph.set(src, 0);
  ph.set(dst, src.length);
  ph.set(tail, src.length + dst.length);
  if (ad.src.af === "inet6") ph[ph.length - 1] = IPPROTO_VRRP; // 3 zero bytes, next header
  return onesSum(ph);
}

/** Length of a message with `n` addresses (RFC 3768 §5.1 / RFC 5798 §5.1). */
export function vrrpLength(version: VrrpVersion, family: "inet" | "inet6", n: number): number {
  const alen = family === "inet" ? 4 : 16;
  return 8 + alen * n + (version === 2 ? AUTH_LEN : 0);
}

function checkEncodable(a: VrrpAdvert): void {
  const bad = (what: string) => {
    throw new RangeError(`Cannot encode VRRP advert: ${what}`);
  };
  if (a.vrid < 1 || a.vrid > 255 || !Number.isInteger(a.vrid)) bad(`VRID ${a.vrid} is not 1..255`);
  if (a.priority < 0 || a.priority > 255 || !Number.isInteger(a.priority))
    bad(`priority ${a.priority} is not 0..255`);
  if (a.addrs.length > 255) bad("more than 255 addresses");
  if (a.addrs.some((x) => x.af !== a.family)) bad("addresses of mixed families");
  if (a.version === 2 && a.family !== "inet") bad("VRRPv2 is IPv4 only");
  if (a.version === 2 && (a.intervalCs % 100 !== 0 || a.intervalCs < 100 || a.intervalCs > 25500))
    bad(`v2 interval ${a.intervalCs} cs is not whole seconds 1..255`);
  if (a.version === 3 && (a.intervalCs < 1 || a.intervalCs > 4095 || !Number.isInteger(a.intervalCs)))
    bad(`v3 interval ${a.intervalCs} cs is not 1..4095`);
}

/**
 * The VRRP message (what follows the IP header). v2: the checksum covers the message only
 * (RFC 3768 §5.3.8). v3: over the pseudo-header too (RFC 5798 §5.2.8), unless `v3Checksum` is
 * "plain" (keepalived's v3_checksum_as_v2). Throws RangeError on values that do not fit the format.
 */
export function encodeVrrp(
  a: VrrpAdvert,
  ad: VrrpAddressing,
  v3Checksum: V3ChecksumMode = "pseudo",
): Uint8Array {
  checkEncodable(a);
  const len = vrrpLength(a.version, a.family, a.addrs.length);
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  out[0] = (a.version << 4) | 1; // type 1 = ADVERTISEMENT
  out[1] = a.vrid;
  out[2] = a.priority;
  out[3] = a.addrs.length;
  if (a.version === 2) {
    out[4] = a.authType;
    out[5] = a.intervalCs / 100; // RFC 3768: Adver Int in seconds
  } else dv.setUint16(4, a.intervalCs & 0x0fff); // RFC 5798: 4 reserved bits, then centiseconds
  let off = 8;
  for (const x of a.addrs) {
    out.set(addrBytes(x), off);
    off += x.words.length * 4;
  }
  if (a.version === 2) out.set(a.authData.subarray(0, AUTH_LEN), off);
  const initial =
    a.version === 3 && (a.family === "inet6" || v3Checksum === "pseudo") ? pseudoSum(ad, len) : 0;
  dv.setUint16(6, internetChecksum(out, initial));
  return out;
}

const fail = (error: DecodeError, detail: string): DecodeResult => ({ ok: false, error, detail });

function readAddrs(b: Uint8Array, family: "inet" | "inet6", n: number): IpAddr[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: IpAddr[] = [];
  for (let i = 0; i < n; i++) {
    if (family === "inet") out.push(ipv4FromU32(dv.getUint32(8 + 4 * i)));
    else {
      const o = 8 + 16 * i;
      out.push(ipv6FromWords([0, 4, 8, 12].map((k) => dv.getUint32(o + k))));
    }
  }
  return out;
}

/** Which checksum forms verify: v2 message only; v3 IPv4 either form (spec §3.3 interop rule). */
function checksumForm(b: Uint8Array, version: number, ad: VrrpAddressing): "pseudo" | "plain" | null {
  if (version === 3) {
    if (onesSum(b, pseudoSum(ad, b.length)) === 0xffff) return "pseudo";
    if (ad.src.af === "inet6") return null; // IPv6: the pseudo-header is mandatory (RFC 5798 §5.2.8)
  }
  return onesSum(b) === 0xffff ? "plain" : null;
}

/**
 * Decode the VRRP message `b` (exactly the IP payload: the IP total length already applied).
 * Never throws. Checks structure only; the per-instance checks (TTL, VRID, auth, interval, VIP
 * list) are vrrp-check.ts's.
 */
export function decodeVrrp(b: Uint8Array, ad: VrrpAddressing): DecodeResult {
  if (b.length < 8) return fail("short", `${b.length} bytes, a VRRP header is 8`);
  const version = b[0] >> 4;
  if (version !== 2 && version !== 3) return fail("version", `version ${version}`);
  if ((b[0] & 15) !== 1) return fail("type", `type ${b[0] & 15}, only 1 (ADVERTISEMENT) exists`);
  const family = ad.src.af;
  if (version === 2 && family !== "inet") return fail("family", "VRRPv2 over IPv6");
  const n = b[3];
  const want = vrrpLength(version, family, n);
  // keepalived requires the exact length for (version, count) (spec §3.4 rule 1)
  if (b.length !== want) return fail("length", `${b.length} bytes, ${n} addresses need ${want}`);
  const form = checksumForm(b, version, ad);
  if (!form) return fail("checksum", `invalid VRRPv${version} checksum`);
  // v3: the 4 reserved bits are ignored on reception (RFC 5798 §5.2.5)
  const intervalCs = version === 2 ? b[5] * 100 : ((b[4] << 8) | b[5]) & 0x0fff;
  if (intervalCs === 0) return fail("zero-interval", "advertisement interval 0");
  const advert: VrrpAdvert = {
    version,
    vrid: b[1],
    priority: b[2],
    intervalCs,
    family,
    addrs: readAddrs(b, family, n),
    authType: version === 2 ? b[4] : 0,
    authData: version === 2 ? b.slice(want - AUTH_LEN, want) : new Uint8Array(0),
  };
  return { ok: true, advert, checksumForm: form };
}

/** The 8 authentication bytes of a PASS password: its first 8 bytes, zero-padded (spec §3.1). */
export function passAuthData(pass: string): Uint8Array {
  const out = new Uint8Array(AUTH_LEN);
  out.set(new TextEncoder().encode(pass).subarray(0, AUTH_LEN));
  return out;
}
