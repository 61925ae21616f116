/** Ethernet II (IEEE 802.3) with at most one 802.1Q / 802.1ad tag. */
import { rd16, wr16 } from "./checksum.ts";
import type { FrameView } from "./frame.ts";
import { Reason } from "./reasons.ts";

export const ETH_HLEN = 14;
export const ETH_ALEN = 6;
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const BROADCAST_MAC: Readonly<Uint8Array> = Uint8Array.of(255, 255, 255, 255, 255, 255);

/** Fill ethType, vlan and l3Off; Reason.TRUNCATED when the header (or its tag) does not fit. */
export function parseEthernet(buf: Uint8Array, len: number, v: FrameView): number {
  if (len < ETH_HLEN) return Reason.TRUNCATED;
  let type = rd16(buf, 12);
  let off = ETH_HLEN;
  v.vlan = -1;
  // IEEE 802.1Q: a 4-byte tag (TPID, TCI) sits before the real EtherType.
  if (type === ETH_P_8021Q || type === ETH_P_8021AD) {
    if (len < ETH_HLEN + 4) return Reason.TRUNCATED;
    v.vlan = rd16(buf, 14) & 0x0fff;
    type = rd16(buf, 16);
    off += 4;
  }
  v.ethType = type;
  v.l3Off = off;
  return Reason.OK;
}

/** Write destination and source MAC (the DR rewrite; also the L2 part of NAT and TUN). */
export function setMacs(buf: Uint8Array, dst: Uint8Array, src: Uint8Array): void {
  for (let i = 0; i < ETH_ALEN; i++) {
    buf[i] = dst[i];
    buf[ETH_ALEN + i] = src[i];
  }
}

/** Write an untagged Ethernet header at 0; returns the offset after it. */
export function writeEthernet(out: Uint8Array, dst: Uint8Array, src: Uint8Array, type: number): number {
  setMacs(out, dst, src);
  wr16(out, 12, type);
  return ETH_HLEN;
}

/** "aa:bb:cc:dd:ee:ff" (or with dashes) → 6 bytes; null when malformed. */
export function parseMac(text: string): Uint8Array | null {
  const m =
    /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(
      text,
    );
  if (!m) return null;
  return Uint8Array.from(m.slice(1, 7).map((h) => Number.parseInt(h, 16)));
}

/** 6 bytes at `off` → "aa:bb:cc:dd:ee:ff". */
export function formatMac(buf: Uint8Array, off = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < ETH_ALEN; i++) parts.push(buf[off + i].toString(16).padStart(2, "0"));
  return parts.join(":");
}
