/**
 * libipvs's ipvs_strerror(): an errno becomes a message chosen by the operation that failed
 * first, then by a generic table, else the C library's strerror() text.
 */
import type { KernelErrno } from "../../director/api.ts";

export type KernelOp =
  | "add-service"
  | "edit-service"
  | "delete-service"
  | "zero"
  | "add-server"
  | "edit-server"
  | "delete-server"
  | "start-daemon"
  | "stop-daemon"
  | "get-service"
  | "flush"
  | "set-timeouts";

const BY_OP: Partial<Record<KernelOp, Partial<Record<KernelErrno, string>>>> = {
  "add-service": { EEXIST: "Service already exists", ENOENT: "Scheduler or persistence engine not found" },
  "edit-service": { ESRCH: "No such service", ENOENT: "Scheduler or persistence engine not found" },
  "delete-service": { ESRCH: "No such service" },
  zero: { ESRCH: "No such service" },
  "add-server": { ESRCH: "Service not defined", EEXIST: "Destination already exists" },
  "edit-server": { ESRCH: "Service not defined", ENOENT: "No such destination" },
  "delete-server": { ESRCH: "Service not defined", ENOENT: "No such destination" },
  "start-daemon": { EEXIST: "Daemon has already run" },
  "stop-daemon": { ESRCH: "No daemon is running" },
  "get-service": { ESRCH: "No such service" },
};

const GENERIC: Partial<Record<KernelErrno, string>> = {
  EPERM: "Permission denied (you must be root)",
  EINVAL: "Invalid operation.  Possibly wrong module version, address not unicast, ...",
  ENOPROTOOPT: "Protocol not available",
  ENOMEM: "Memory allocation problem",
  EOPNOTSUPP: "Operation not supported with IPv6",
  EAFNOSUPPORT: "Operation not supported with specified address family",
  EMSGSIZE: "Module is wrong version",
};

/** glibc strerror() texts for the errnos a director can return. */
const STRERROR: Record<KernelErrno, string> = {
  EEXIST: "File exists",
  ENOENT: "No such file or directory",
  ESRCH: "No such process",
  EINVAL: "Invalid argument",
  ERANGE: "Numerical result out of range",
  ENODEV: "No such device",
  EPERM: "Operation not permitted",
  ENOMEM: "Cannot allocate memory",
  EOPNOTSUPP: "Operation not supported",
  EAFNOSUPPORT: "Address family not supported by protocol",
  ENOPROTOOPT: "Protocol not available",
  EMSGSIZE: "Message too long",
  EBUSY: "Device or resource busy",
};

export function ipvsStrerror(op: KernelOp, errno: KernelErrno): string {
  return BY_OP[op]?.[errno] ?? GENERIC[errno] ?? STRERROR[errno] ?? `Unknown error ${errno}`;
}
