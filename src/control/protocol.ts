/**
 * The daemon's local API: newline-delimited JSON over a Unix socket. One request per line, one
 * response per line with the same id. Clients (ipvsadm, the TUI, `uvs snapshot`, `uvs reload`)
 * share these types and nothing else of the daemon.
 */
import type { DirectorOp, OpResult } from "../director/api.ts";
import type { SnapHealth } from "../model/snapshot.ts";

export const DEFAULT_CONTROL_SOCKET = "/run/uvs/uvs.sock";

export interface ControlMethods {
  /** The whole state as a uvs-state/1 snapshot (JSON text, 64-bit numbers exact). */
  snapshot: { params: { connections?: boolean }; result: string };
  /** One Director API operation, as ipvsadm sends one netlink request. */
  apply: { params: { op: DirectorOp }; result: OpResult };
  /** Re-read the rules file now (as SIGHUP); with dryRun only the plan is returned. */
  /** `steps`: the director changes the reload made (or would make, dry run). */
  reload: {
    params: { dryRun?: boolean };
    result: { applied: boolean; lines: string[]; errors: string[]; steps: number };
  };
  /** Recent daemon events (reloads, CLI changes, errors…), oldest first, after sequence `since`. */
  events: { params: { since?: number }; result: { events: DaemonEvent[] } };
  /** Every health check: one entry per real server × checker (`uvs health`). */
  health: { params: Record<string, never>; result: { entries: SnapHealth[] } };
  /** Liveness and identity of the daemon. */
  ping: {
    params: Record<string, never>;
    result: { pid: number; rules: string; dataplane: string; uptimeMs: number };
  };
}

export interface DaemonEvent {
  seq: number;
  /** Epoch milliseconds. */
  time: number;
  level: "debug" | "info" | "notice" | "warning" | "error";
  msg: string;
  fields?: Record<string, unknown>;
}

export type Method = keyof ControlMethods;

export interface Request<M extends Method = Method> {
  id: number;
  method: M;
  params: ControlMethods[M]["params"];
}

export type Response<M extends Method = Method> =
  | { id: number; ok: true; result: ControlMethods[M]["result"] }
  | { id: number; ok: false; error: string };

/** Requests larger than this are refused (a snapshot response may be large; requests are small). */
export const MAX_REQUEST_BYTES = 1 << 20;
