/**
 * ARP (RFC 826) for Ethernet/IPv4: parse a request, answer it for a VIP, and announce a VIP with a
 * gratuitous ARP (RFC 5227 §3 ARP Announcement: a request whose sender and target address are both the VIP).
 */
import { rd16, rd32, wr16, wr32 } from "./checksum.ts";
import { BROADCAST_MAC, ETH_ALEN, ETH_HLEN, ETH_P_8021Q, ETH_P_ARP, ETH_P_IP, setMacs } from "./ethernet.ts";
import type { FrameView } from "./frame.ts";
import { Reason } from "./reasons.ts";

export const ARP_LEN = 28;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;
const ARPHRD_ETHER = 1;

/** Parse the ARP packet at v.l3Off: op, sender/target protocol addresses (sha is at l3Off + 8). */
export function parseArp(buf: Uint8Array, len: number, v: FrameView): number {
  const off = v.l3Off;
  if (len - off < ARP_LEN) return Reason.TRUNCATED;
  // RFC 826: hardware type 1 (Ethernet), protocol 0x0800, address lengths 6 and 4.
  if (rd16(buf, off) !== ARPHRD_ETHER || rd16(buf, off + 2) !== ETH_P_IP) return Reason.ARP_NOT_FOR_VIP;
  if (buf[off + 4] !== ETH_ALEN || buf[off + 5] !== 4) return Reason.ARP_NOT_FOR_VIP;
  v.arpOp = rd16(buf, off + 6);
  v.saddr = rd32(buf, off + 14);
  v.daddr = rd32(buf, off + 24);
  return Reason.OK;
}

function writeArpBody(
  out: Uint8Array,
  off: number,
  op: number,
  sha: Uint8Array,
  shaOff: number,
  spa: number,
  tha: Uint8Array,
  thaOff: number,
  tpa: number,
): number {
  wr16(out, off, ARPHRD_ETHER);
  wr16(out, off + 2, ETH_P_IP);
  out[off + 4] = ETH_ALEN;
  out[off + 5] = 4;
  wr16(out, off + 6, op);
  for (let i = 0; i < ETH_ALEN; i++) {
    out[off + 8 + i] = sha[shaOff + i];
    out[off + 18 + i] = tha[thaOff + i];
  }
  wr32(out, off + 14, spa);
  wr32(out, off + 24, tpa);
  return off + ARP_LEN;
}

/**
 * RFC 826 "Packet Reception": answer the request in `v` (already classified as for a VIP) with
 * `mac` as the VIP's hardware address, unicast back to the requester on the same VLAN. Writes `out`
 * (a different buffer than the request's); returns the frame length.
 */
export function buildArpReply(v: FrameView, out: Uint8Array, mac: Uint8Array): number {
  const buf = v.buf;
  const shaOff = v.l3Off + 8;
  setMacs(out, buf.subarray(shaOff, shaOff + ETH_ALEN), mac);
  for (let i = 12; i < v.l3Off; i++) out[i] = buf[i]; // VLAN tag and EtherType as received
  return writeArpBody(out, v.l3Off, ARPOP_REPLY, mac, 0, v.daddr, buf, shaOff, v.saddr);
}

const ZERO_MAC = new Uint8Array(ETH_ALEN);

/**
 * RFC 5227 §3 ARP Announcement (gratuitous ARP) for `vip` owned by `mac`, broadcast; with `vlan` ≥ 0 an
 * 802.1Q tag is added. Returns the frame length (42, or 46 tagged; the NIC pads to 60).
 */
export function buildGratuitousArp(out: Uint8Array, vip: number, mac: Uint8Array, vlan = -1): number {
  setMacs(out, BROADCAST_MAC, mac);
  let off = ETH_HLEN;
  if (vlan >= 0) {
    wr16(out, 12, ETH_P_8021Q);
    wr16(out, 14, vlan & 0x0fff);
    off += 4;
  }
  wr16(out, off - 2, ETH_P_ARP);
  return writeArpBody(out, off, ARPOP_REQUEST, mac, 0, vip, ZERO_MAC, 0, vip);
}
