/**
 * What a frame is for the director, after one parse: a new flow to schedule, a packet of a known flow
 * (client side or NAT reply), an ARP request for a VIP, an ICMP error that belongs to a flow, or
 * something to ignore with a Reason (and so a counter). The connection table is reached through the
 * context's `lookup`, so this stays pure and testable with fakes.
 */
import { ARPOP_REQUEST } from "./arp.ts";
import { ETH_P_ARP } from "./ethernet.ts";
import { type FrameView, IPPROTO_TCP, IPPROTO_UDP, parseFrame } from "./frame.ts";
import { Reason } from "./reasons.ts";
import { tcpCanCreate } from "./tcp.ts";

export const Verdict = {
  IGNORE: 0,
  /** To a VIP, no connection yet, and the packet may create one: schedule it. */
  NEW_FLOW: 1,
  /** Client → VIP packet of a known connection (lookup(v, DIR_IN) was true). */
  IN_FLOW: 2,
  /** Real server → client reply of a known NAT connection (lookup(v, DIR_OUT) was true). */
  OUT_FLOW: 3,
  /** ARP request whose target is a VIP: answer with buildArpReply. */
  ARP_VIP: 4,
  /** ICMP error with a TCP/UDP packet embedded (v.inner*): look its flow up and send it along. */
  ICMP_ERROR: 5,
} as const;

export const VERDICT_NAMES = ["ignore", "new_flow", "in_flow", "out_flow", "arp_vip", "icmp_error"] as const;

export const DIR_IN = 0;
export const DIR_OUT = 1;

export interface ClassifyContext {
  /** Is this IPv4 address (host-order u32) a VIP? */
  isVipV4(addr: number): boolean;
  /** Is the 16-byte address at `off` of `buf` a VIP? Absent: no IPv6 VIPs. */
  isVipV6?(buf: Uint8Array, off: number): boolean;
  /** Does the connection table hold the flow of `v` in direction DIR_IN (client side) or DIR_OUT (reply)? */
  lookup(v: FrameView, dir: number): boolean;
  /** parseFrame flags (VERIFY_L4 to check TCP/UDP/ICMP checksums). */
  parseFlags?: number;
}

/** Parse `buf[0, len)` into `v` and classify it; the verdict is returned, the reason is in v.reason. */
export function classify(buf: Uint8Array, len: number, v: FrameView, ctx: ClassifyContext): number {
  const r = parseFrame(buf, len, v, ctx.parseFlags ?? 0);
  if (v.ethType === ETH_P_ARP) return r === Reason.OK ? classifyArp(v, ctx) : ignore(v, r);
  if (r !== Reason.OK) return ignore(v, r);
  // Policy (docs/packet-plane.md): IPv4 options and IPv6 extension headers are not forwarded.
  if (v.ipOptions) return ignore(v, Reason.IP_OPTIONS);
  const toVip = v.ipVersion === 4 ? ctx.isVipV4(v.daddr) : ctx.isVipV6?.(v.buf, v.daddrOff) === true;
  // RFC 1812 §5.3.1: never forward TTL 0; TTL 1 only when the VIP is the destination (not routed on).
  if (v.ttl === 0 || (v.ttl === 1 && !toVip)) return ignore(v, Reason.TTL_EXPIRED);
  const p = v.proto;
  if (p === IPPROTO_TCP || p === IPPROTO_UDP) return classifyFlow(v, ctx, toVip);
  if (!v.icmpError) return ignore(v, Reason.ICMP_NOT_ERROR);
  return v.innerProto < 0 ? ignore(v, Reason.ICMP_NO_FLOW) : Verdict.ICMP_ERROR;
}

function classifyFlow(v: FrameView, ctx: ClassifyContext, toVip: boolean): number {
  if (toVip) {
    if (ctx.lookup(v, DIR_IN)) return Verdict.IN_FLOW;
    const create = v.proto === IPPROTO_UDP || tcpCanCreate(v);
    return create ? Verdict.NEW_FLOW : ignore(v, Reason.NO_FLOW);
  }
  return ctx.lookup(v, DIR_OUT) ? Verdict.OUT_FLOW : ignore(v, Reason.NOT_OURS);
}

/** RFC 826: answer requests whose target protocol address is ours; everything else is the host's. */
function classifyArp(v: FrameView, ctx: ClassifyContext): number {
  // RFC 5227 §2.4: an announcement (sender = target address) is another host claiming it, not a question.
  if (v.arpOp === ARPOP_REQUEST && v.saddr !== v.daddr && ctx.isVipV4(v.daddr)) return Verdict.ARP_VIP;
  return ignore(v, Reason.ARP_NOT_FOR_VIP);
}

function ignore(v: FrameView, reason: number): number {
  v.reason = reason;
  return Verdict.IGNORE;
}
