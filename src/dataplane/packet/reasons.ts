/**
 * Why a frame is not forwarded: one small integer per reason (the hot path returns these, it never
 * throws) and the counter each one increments. docs/packet-plane.md explains every counter.
 */
export const Reason = {
  OK: 0,
  /** Shorter than a header or a length field says (Ethernet, IP, TCP, UDP, ICMP, ARP). */
  TRUNCATED: 1,
  /** A header field is impossible: IP version, IHL < 5, total length < header, TCP offset < 5, UDP length < 8. */
  MALFORMED: 2,
  BAD_IP_CHECKSUM: 3,
  BAD_L4_CHECKSUM: 4,
  /** IPv4 MF or fragment offset ≠ 0, or an IPv6 Fragment header. */
  FRAGMENT: 5,
  /** IPv4 IHL > 5, or IPv6 Hop-by-Hop / Routing / Destination Options headers. */
  IP_OPTIONS: 6,
  /** TTL (hop limit) 0, or 1 on a frame that would have to be routed on. */
  TTL_EXPIRED: 7,
  /** Not IPv4, IPv6 or ARP (after at most one VLAN tag). */
  UNSUPPORTED_ETHERTYPE: 8,
  /** IP protocol other than TCP, UDP, ICMP, ICMPv6 (SCTP, ESP, GRE …). */
  UNSUPPORTED_PROTOCOL: 9,
  /** ARP that is not a request for one of our VIPs (other targets, replies, non-Ethernet/IPv4 ARP). */
  ARP_NOT_FOR_VIP: 10,
  /** ICMP that is not an error we follow (echo, redirect …): left to the host's own stack. */
  ICMP_NOT_ERROR: 11,
  /** An ICMP error whose embedded header is too short or not TCP/UDP: no flow to follow. */
  ICMP_NO_FLOW: 12,
  /** To a VIP, no connection, and the packet may not create one (TCP without SYN, or with RST). */
  NO_FLOW: 13,
  /** Not to a VIP and not a reply of a known NAT connection. */
  NOT_OURS: 14,
} as const;

export type ReasonCode = (typeof Reason)[keyof typeof Reason];

/** Counter name per reason code (index = code). */
export const REASON_COUNTERS: readonly string[] = [
  "frames_ok",
  "frames_truncated",
  "frames_malformed",
  "frames_bad_ip_checksum",
  "frames_bad_l4_checksum",
  "frames_fragment",
  "frames_ip_options",
  "frames_ttl_expired",
  "frames_unsupported_ethertype",
  "frames_unsupported_protocol",
  "frames_arp_not_for_vip",
  "frames_icmp_not_error",
  "frames_icmp_no_flow",
  "frames_no_flow",
  "frames_not_ours",
];

/** Counter name for a reason code ("frames_unknown" for anything out of range). */
export function reasonCounter(code: number): string {
  return REASON_COUNTERS[code] ?? "frames_unknown";
}
