/**
 * What a data plane tells the director about the flows it carries. A new flow is scheduled and
 * gets a connection entry; socket events move the entry through IPVS's TCP states (so -Lnc,
 * ActiveConn/InActConn and lc/wlc are truthful); every read or write is counted and re-arms the
 * entry's timer, as every packet does in the kernel. When an entry's timer runs out the director
 * calls the expiry hook, and the data plane closes the flow (an idle timeout).
 */

import { Dir, IPPROTO_TCP, Tcp, TcpEvent, tcpNextState } from "../conntrack/states.ts";
import { CONN_F_ONE_PACKET } from "../conntrack/table.ts";
import type { IpAddr } from "../model/addr.ts";
import type { Dest } from "../model/dest.ts";
import type { Service } from "../model/service.ts";
import { armForState, connect, endOnePacket, expireEntry, type NewFlow, setState } from "./conn-ops.ts";
import type { Director } from "./director.ts";

/** An entry as a data plane holds it: the slot and the serial that tells reuse apart. */
export interface FlowRef {
  readonly slot: number;
  readonly serial: number;
}

export interface FlowTarget {
  ref: FlowRef;
  dest: Dest;
  /** Where to connect: the real server's address and port (the client's port for port-0 dests). */
  daddr: IpAddr;
  dport: number;
  /**
   * One-packet scheduling (-o, UDP): the entry lives for this packet only. Account and forward
   * the packet, then `endFlowPacket`; the next packet of the client is scheduled afresh.
   */
  onePacket: boolean;
}

/**
 * - `established`: the upstream connection is up (SYN_RECV → ESTABLISHED)
 * - `client-fin` / `server-fin`: one side half-closed (kernel table, INPUT resp. OUTPUT FIN)
 * - `closed`: both sides are closed; the entry lingers in TIME_WAIT for the tcpfin timeout
 * - `reset`: a side reset the connection (CLOSE)
 */
export type FlowEvent = "established" | "client-fin" | "server-fin" | "closed" | "reset";

export function isLive(d: Director, ref: FlowRef): boolean {
  return d.conns.isLive(ref.slot) && d.conns.serialOf(ref.slot) === ref.serial;
}

/** Schedule a new flow (TCP: its SYN; UDP: its first datagram). Null: no destination available. */
export function openFlow(d: Director, svc: Service, flow: NewFlow): FlowTarget | null {
  const slot = connect(d, svc, flow, true);
  if (slot < 0 || !d.conns.isLive(slot)) return null;
  const t = d.conns;
  return {
    ref: { slot, serial: t.serialOf(slot) },
    dest: t.dest(slot)!,
    daddr: t.daddr(slot),
    dport: t.dport(slot),
    onePacket: (t.flags(slot) & CONN_F_ONE_PACKET) !== 0,
  };
}

/** The packet of a one-packet flow is out: its entry goes (no-op for other flows). */
export function endFlowPacket(d: Director, ref: FlowRef): void {
  if (isLive(d, ref)) endOnePacket(d, ref.slot);
}

export function flowEvent(d: Director, ref: FlowRef, ev: FlowEvent): void {
  if (!isLive(d, ref)) return;
  const t = d.conns;
  const slot = ref.slot;
  if (t.protoOf(slot) !== IPPROTO_TCP) {
    if (ev === "closed") expireEntry(d, slot);
    return;
  }
  const cur = t.state(slot);
  switch (ev) {
    case "established":
      setState(d, slot, Tcp.ESTABLISHED);
      break;
    case "client-fin":
      setState(d, slot, tcpNextState(Dir.INPUT, TcpEvent.FIN, cur));
      break;
    case "server-fin":
      setState(d, slot, tcpNextState(Dir.OUTPUT, TcpEvent.FIN, cur));
      break;
    case "reset":
      setState(d, slot, Tcp.CLOSE);
      break;
    case "closed":
      setState(d, slot, Tcp.TIME_WAIT);
      t.arm(slot, d.timeouts.tcp[Tcp.FIN_WAIT] * 1000, d.now);
      d.hooks.inPacket?.(slot);
      return;
  }
  armForState(d, slot);
  // The server's FIN is an output packet; the others come from (or stand for) the client.
  if (ev !== "server-fin") d.hooks.inPacket?.(slot);
}

/**
 * Count traffic of a flow: `in` is client → real server, `out` the way back. Each call is one
 * "packet" (a read or a write) unless `packets` says otherwise, and re-arms the entry's timer.
 */
export function account(d: Director, ref: FlowRef, dir: "in" | "out", bytes: number, packets = 1): void {
  if (isLive(d, ref)) accountSlot(d, ref.slot, dir, bytes, packets);
}

/** `account` for a slot the caller just found live (a packet plane's per-frame path: no FlowRef). */
export function accountSlot(d: Director, slot: number, dir: "in" | "out", bytes: number, packets = 1): void {
  const dest = d.conns.dest(slot);
  if (dest) {
    const s = dest.stats;
    const v = dest.svc?.stats;
    if (dir === "in") {
      s.inpkts += packets;
      s.inbytes += bytes;
      if (v) {
        v.inpkts += packets;
        v.inbytes += bytes;
      }
    } else {
      s.outpkts += packets;
      s.outbytes += bytes;
      if (v) {
        v.outpkts += packets;
        v.outbytes += bytes;
      }
    }
  }
  armForState(d, slot);
  if (dir === "in") d.hooks.inPacket?.(slot);
}
