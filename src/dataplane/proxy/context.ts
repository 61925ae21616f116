/**
 * What the TCP and UDP halves of the proxy plane share: the director, the log, counters, and the
 * registry of live flows by connection-table slot (so the director's expiry hook finds the flow).
 */

import type { Director } from "../../director/director.ts";
import type { FlowRef } from "../../director/flows.ts";
import { formatAddrPort, type IpAddr } from "../../model/addr.ts";
import type { ProxyProtocolVersion } from "./proxy-protocol.ts";

/** Events worth a log line: never one per chunk or datagram. */
export type ProxyLogEvent =
  | { type: "listening"; endpoint: string }
  | { type: "listen-error"; endpoint: string; error: string }
  | { type: "listener-closed"; endpoint: string }
  | { type: "connect-failed"; service: string; dest: string; client: string; reason: string }
  | { type: "warning"; message: string };

export interface ProxyCounters {
  /** TCP connections accepted / UDP flows created since start. */
  accepted: number;
  /** Clients turned away because the director had no destination for them. */
  noDestination: number;
  /** Flows closed because their connection entry timed out. */
  expired: number;
  /** Listen/bind failures (each also logged with its endpoint). */
  listenerErrors: number;
  /** UDP datagrams dropped (send would block, queue full while connecting). */
  udpDropped: number;
  /** UDP socket errors (ICMP unreachable from a real server, send failures). */
  udpErrors: number;
}

/** A flow the director can expire. */
export interface LiveFlow {
  readonly ref: FlowRef;
  /** The entry's timer ran out: close the flow without telling the director again. */
  expire(): void;
  /** Close the flow now (drain deadline, plane close). */
  close(): void;
  /** Bytes held in user space for this flow (backpressure queues). */
  buffered(): number;
}

export interface ProxyContext {
  readonly director: Director;
  readonly log: (event: ProxyLogEvent) => void;
  readonly connectTimeoutMs: number;
  /** Relay threads the epoll engine may start (0: none). */
  readonly relayThreads: number;
  readonly counters: ProxyCounters;
  /** Upstream connect failures per real server ("addr:port"). */
  readonly connectFailures: Map<string, number>;
  /** Live flows by connection-table slot. */
  readonly flows: Map<number, LiveFlow>;
  /** PROXY protocol wanted by a real server of a service, if any. */
  proxyProtocol(svcKey: string, destKey: string): ProxyProtocolVersion | undefined;
  /** Open TCP connections and UDP flows. */
  open: { tcp: number; udp: number };
  /** Called whenever a flow ends (drain waits on it). */
  flowEnded(): void;
  /**
   * A connect failed while the process may be out of file descriptors: true when that is so (the
   * plane then stops accepting until descriptors free up, and the real server is not blamed).
   */
  fdPressure(): boolean;
  /** Is addr:port one of this plane's own TCP listeners? Connecting there would loop. */
  listensOn(addr: IpAddr, port: number): boolean;
}

/** `tcp:127.0.0.1:80`: how endpoints are named in logs and stats. */
export function endpointName(protocol: "tcp" | "udp", addr: IpAddr, port: number): string {
  return `${protocol}:${formatAddrPort(addr, port)}`;
}

/** Forget a flow if the registry still holds this one (its slot may already serve another). */
export function unregister(ctx: ProxyContext, flow: LiveFlow): void {
  if (ctx.flows.get(flow.ref.slot) === flow) ctx.flows.delete(flow.ref.slot);
}

export function countConnectFailure(ctx: ProxyContext, destKey: string): void {
  ctx.connectFailures.set(destKey, (ctx.connectFailures.get(destKey) ?? 0) + 1);
}
