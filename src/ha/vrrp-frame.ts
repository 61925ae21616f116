/**
 * What surrounds a VRRP message on the wire: the IPv4 header keepalived builds (IP_HDRINCL), the
 * Ethernet header, and the gratuitous ARP sent for each VIP. Pure (spec keepalived.md §3.3, §3.7).
 */
import { type IpAddr, ipv4FromU32 } from "../model/addr.ts";
import { IPPROTO_VRRP, internetChecksum, VRRP_TTL } from "./vrrp-packet.ts";

/** The IPv4 header fields keepalived sends (spec §3.3 table). */
export interface Ipv4Fields {
  src: IpAddr;
  dst: IpAddr;
  /** Per-instance counter from 1, never 0. */
  id: number;
  /** 255; unicast uses unicast_ttl. */
  ttl?: number;
  /** 0xc0, network control. */
  tos?: number;
}

/** A received IPv4 datagram carrying VRRP: what the receive checks need. */
export interface VrrpDatagram {
  src: IpAddr;
  dst: IpAddr;
  ttl: number;
  id: number;
  /** The IP payload, cut to the header's total length (Ethernet padding dropped). */
  payload: Uint8Array;
}

export type DatagramResult = { ok: true; dgram: VrrpDatagram } | { ok: false; error: string };

/** IPv4 header + payload; DF not set, header checksum filled in (the kernel would do the same). */
export function encodeIpv4(f: Ipv4Fields, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(20 + payload.length);
  const dv = new DataView(out.buffer);
  out[0] = 0x45;
  out[1] = f.tos ?? 0xc0; // keepalived: IPTOS_PREC_INTERNETCONTROL
  dv.setUint16(2, out.length);
  dv.setUint16(4, f.id & 0xffff);
  dv.setUint16(6, 0); // flags/fragment: DF not set [lab]
  out[8] = f.ttl ?? VRRP_TTL;
  out[9] = IPPROTO_VRRP;
  dv.setUint32(12, f.src.words[0]);
  dv.setUint32(16, f.dst.words[0]);
  dv.setUint16(10, internetChecksum(out.subarray(0, 20)));
  out.set(payload, 20);
  return out;
}

/**
 * An IPv4 datagram as a raw IPPROTO_VRRP socket delivers it (header included). Never throws. The
 * payload is cut at the header's total length: padding is tolerated, truncation is not (spec §3.4
 * rules 1 and 6).
 */
export function decodeIpv4(b: Uint8Array): DatagramResult {
  if (b.length < 20) return { ok: false, error: `${b.length} bytes, shorter than an IPv4 header` };
  if (b[0] >> 4 !== 4) return { ok: false, error: `IP version ${b[0] >> 4}` };
  const ihl = (b[0] & 15) * 4;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const total = dv.getUint16(2);
  if (ihl < 20 || total < ihl || total > b.length)
    return { ok: false, error: `IP header length ${ihl} / total length ${total} for ${b.length} bytes` };
  if (b[9] !== IPPROTO_VRRP) return { ok: false, error: `IP protocol ${b[9]}, not VRRP (112)` };
  if ((dv.getUint16(6) & 0x3fff) !== 0) return { ok: false, error: "fragmented datagram" };
  return {
    ok: true,
    dgram: {
      src: ipv4FromU32(dv.getUint32(12)),
      dst: ipv4FromU32(dv.getUint32(16)),
      ttl: b[8],
      id: dv.getUint16(4),
      payload: b.subarray(ihl, total),
    },
  };
}

/** A MAC address as 6 bytes from "aa:bb:cc:dd:ee:ff"; null when malformed. */
export function parseMac(text: string): Uint8Array | null {
  const parts = text.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) return null;
  return Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
}

/** The Ethernet destination of a multicast IPv4 address (RFC 1112 §6.4): 01:00:5e + low 23 bits. */
export function multicastMac(group: IpAddr): Uint8Array {
  const w = group.words[0];
  return Uint8Array.from([1, 0, 0x5e, (w >>> 16) & 0x7f, (w >>> 8) & 255, w & 255]);
}

/** The RFC 5798 §7.3 virtual MAC (keepalived's use_vmac): 00:00:5e:00:01:VRID (02:VRID for IPv6). */
export function virtualMac(vrid: number, family: "inet" | "inet6" = "inet"): Uint8Array {
  return Uint8Array.from([0, 0, 0x5e, 0, family === "inet" ? 1 : 2, vrid]);
}

/** Ethernet II frame: dst, src, ethertype, payload. */
export function encodeEthernet(
  dst: Uint8Array,
  src: Uint8Array,
  type: number,
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(14 + payload.length);
  out.set(dst, 0);
  out.set(src, 6);
  out[12] = type >> 8;
  out[13] = type & 255;
  out.set(payload, 14);
  return out;
}

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
const BROADCAST = new Uint8Array([255, 255, 255, 255, 255, 255]);

/**
 * keepalived's gratuitous ARP for `vip` (spec §3.3): an ARP *request* to broadcast, sender MAC =
 * the VIP interface's MAC, sender IP = target IP = the VIP, target MAC ff:ff:ff:ff:ff:ff.
 */
export function encodeGarp(mac: Uint8Array, vip: IpAddr): Uint8Array {
  const arp = new Uint8Array(28);
  const dv = new DataView(arp.buffer);
  dv.setUint16(0, 1); // hardware type Ethernet
  dv.setUint16(2, ETH_P_IP);
  arp[4] = 6;
  arp[5] = 4;
  dv.setUint16(6, 1); // op: request
  arp.set(mac, 8);
  dv.setUint32(14, vip.words[0]);
  arp.set(BROADCAST, 18); // keepalived fills the target MAC with ff, not zeros
  dv.setUint32(24, vip.words[0]);
  return encodeEthernet(BROADCAST, mac, ETH_P_ARP, arp);
}
