/** What the main thread and the packet worker say to each other (postMessage, structured clone). */
import type { DirectorOp, OpResult } from "../../../director/api.ts";
import type { InterfaceInfo } from "./interfaces.ts";
import type { VipMacMode } from "./vip-macs.ts";

export interface WorkerInit {
  type: "init";
  interfaces: InterfaceInfo[];
  /** Float64Array of COUNTER_NAMES, written by the worker. */
  counters: SharedArrayBuffer;
  /** Int32Array: [0] = 1 asks the loop to stop. */
  control: SharedArrayBuffer;
  /** Frames per recvmmsg/sendmmsg. */
  batch: number;
  /** VIPs at virtual MACs or at the interfaces' own (vip-macs.ts). */
  vipMac: VipMacMode;
}

export type WorkerRequest =
  | { type: "apply"; id: number; ops: DirectorOp[] }
  | { type: "snapshot"; id: number; connections: boolean }
  | { type: "arp-for"; id: number; vips: number[] | "all" }
  | { type: "announce"; id: number; vips: number[] | null }
  /** VIP → VRID of the vrrp_instance listing it (its virtual router MAC). */
  | { type: "vip-vrids"; id: number; vrids: [number, number][] }
  | { type: "neighbours"; id: number };

export type WorkerMessage =
  | { type: "ready" }
  | { type: "error"; message: string }
  | { type: "reply"; id: number; result: unknown }
  | { type: "log"; level: "info" | "warning" | "error"; msg: string; fields?: Record<string, unknown> }
  | { type: "stopped" };

export type ApplyReply = OpResult[];

export interface NeighbourEntry {
  ip: string;
  ifname: string;
  mac: string | null;
}

export const STOP = 0;
