/**
 * The engine's counters: one Float64Array over a SharedArrayBuffer, written by the worker and read
 * by the main thread without messages (metrics, `uvs` status). Index = position in COUNTER_NAMES:
 * first the classify reasons (reasons.ts, one per ignored frame), then the engine's own.
 */
import { REASON_COUNTERS } from "../reasons.ts";

export const ENGINE_COUNTERS = [
  "frames_in",
  "frames_out",
  "bytes_in",
  "bytes_out",
  "tx_errors",
  "flows_new",
  /** NEW_FLOW whose service had no available destination (as IPVS: dropped). */
  "flows_no_dest",
  /** To a VIP:port no service listens on (another port of a VIP), or a fwmark-only VIP. */
  "frames_no_service",
  "forward_dr",
  "forward_tun",
  "forward_nat_in",
  "forward_nat_out",
  /** Frames dropped because the next hop's MAC is not resolved yet (TCP retransmits). */
  "neighbour_unresolved",
  /** DR toward a real server not on any of our links, or a method this plane does not carry. */
  "no_route",
  "arp_replies",
  "arp_requests",
  "garp_sent",
  "icmp_forwarded",
  /** An ICMP error whose embedded packet matches no connection. */
  "icmp_no_flow",
  /** TUN: DF packet too big for the tunnel; ICMP fragmentation needed sent to the client. */
  "tun_frag_needed",
  /** TUN: packet without DF too big for the tunnel; sent as outer fragments. */
  "tun_fragmented",
  /** Frames longer than the receive slot (jumbo frames beyond frameSize). */
  "frames_oversize",
] as const;

export const COUNTER_NAMES: readonly string[] = [...REASON_COUNTERS, ...ENGINE_COUNTERS];

type EngineCounter = (typeof ENGINE_COUNTERS)[number];

/** Index of an engine counter in the shared array. */
export const C = Object.fromEntries(ENGINE_COUNTERS.map((n, i) => [n, REASON_COUNTERS.length + i])) as Record<
  EngineCounter,
  number
>;

export function newCounterBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(COUNTER_NAMES.length * 8);
}

/** Name → value of every counter (reason counters included; frames_ok is the forwarded kinds). */
export function readCounters(a: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < COUNTER_NAMES.length; i++) out[COUNTER_NAMES[i]] = a[i] ?? 0;
  return out;
}
