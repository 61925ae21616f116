/**
 * Linux errno values by name, with the words for log lines. No FFI here: the load generator's
 * Bun engine and the error classifiers use it where libc cannot be loaded.
 */
const ERRNO: Record<number, readonly [name: string, text?: string]> = {
  1: ["EPERM"],
  2: ["ENOENT"],
  4: ["EINTR"],
  9: ["EBADF"],
  11: ["EAGAIN"],
  12: ["ENOMEM"],
  13: ["EACCES"],
  14: ["EFAULT"],
  19: ["ENODEV"],
  22: ["EINVAL"],
  23: ["ENFILE", "too many open files in system"],
  24: ["EMFILE", "too many open files"],
  32: ["EPIPE", "broken pipe"],
  90: ["EMSGSIZE"],
  93: ["EPROTONOSUPPORT"],
  97: ["EAFNOSUPPORT", "address family not supported"],
  98: ["EADDRINUSE", "address already in use"],
  99: ["EADDRNOTAVAIL", "cannot assign requested address"],
  100: ["ENETDOWN"],
  101: ["ENETUNREACH", "network is unreachable"],
  103: ["ECONNABORTED", "connection aborted"],
  104: ["ECONNRESET", "connection reset by peer"],
  105: ["ENOBUFS"],
  110: ["ETIMEDOUT", "connection timed out"],
  111: ["ECONNREFUSED", "connection refused"],
  113: ["EHOSTUNREACH", "no route to host"],
  115: ["EINPROGRESS"],
};

/** The code name ("ECONNREFUSED"), or undefined for a value not listed. */
export function errnoCode(e: number): string | undefined {
  return ERRNO[e]?.[0];
}

/** The code name, or "errno N". */
export function errnoName(e: number): string {
  return errnoCode(e) ?? `errno ${e}`;
}

/** For log lines: "ECONNREFUSED: connection refused" where the words are known. */
export function errnoText(e: number): string {
  const x = ERRNO[e];
  if (!x) return `errno ${e}`;
  return x[1] ? `${x[0]}: ${x[1]}` : x[0];
}
