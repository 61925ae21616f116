/**
 * The Director API: every change to the director goes through one of these operations, whether it
 * comes from ipvsadm's command line, the rules file, the TUI or a health checker. Results carry
 * the errno the Linux kernel would return for the same request, so ipvsadm's messages map 1:1.
 */
import type { IpAddr } from "../model/addr.ts";
import type { DestConfig } from "../model/dest.ts";
import type { ServiceConfig, ServiceId } from "../model/service.ts";
import type { Snapshot } from "../model/snapshot.ts";

export type KernelErrno =
  | "EEXIST"
  | "ENOENT"
  | "ESRCH"
  | "EINVAL"
  | "ERANGE"
  | "ENODEV"
  | "EPERM"
  | "ENOMEM"
  | "EOPNOTSUPP"
  | "EAFNOSUPPORT"
  | "ENOPROTOOPT"
  | "EMSGSIZE"
  | "EBUSY";

/**
 * `message` is set when the refusal is uvs's own rather than the kernel's (for instance DR on
 * the proxy plane); ipvsadm prints it instead of the errno's text.
 */
export type OpResult = { ok: true } | { ok: false; errno: KernelErrno; message?: string };

export interface SyncDaemonConfig {
  state: "master" | "backup";
  mcastIfn: string;
  syncid: number;
  /** Optional fields are sent only when given on the command line (kernel fills defaults). */
  maxlen?: number;
  group?: IpAddr;
  port?: number;
  ttl?: number;
}

export type DirectorOp =
  | { op: "add-service"; service: ServiceId; config: ServiceConfig }
  | { op: "edit-service"; service: ServiceId; config: ServiceConfig }
  | { op: "delete-service"; service: ServiceId }
  | { op: "flush" }
  | { op: "add-server"; service: ServiceId; dest: DestConfig }
  | { op: "edit-server"; service: ServiceId; dest: DestConfig }
  | { op: "delete-server"; service: ServiceId; addr: IpAddr; port: number }
  /** `-Z`: one service, or every service and the totals when null. */
  | { op: "zero"; service: ServiceId | null }
  /** `--set`: 0 keeps the current value. */
  | { op: "set-timeouts"; tcp: number; tcpfin: number; udp: number }
  | { op: "start-daemon"; daemon: SyncDaemonConfig }
  | { op: "stop-daemon"; state: "master" | "backup"; syncid: number };

/**
 * What ipvsadm talks to, as ipvsadm talks to the kernel: an offline snapshot file or, later, the
 * running daemon over its control socket.
 */
export interface DirectorBackend {
  /** The whole state, as the listings render it. */
  snapshot(): Promise<Snapshot>;
  apply(op: DirectorOp): Promise<OpResult>;
  /** Persist what changed (offline: atomic write of the snapshot file). */
  commit(): Promise<void>;
  /** Release what the backend holds (the daemon connection); ipvsadm calls it when it is done. */
  close?(): void;
}
