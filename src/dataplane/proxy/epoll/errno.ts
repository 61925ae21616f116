/** Names of the errno values a TCP proxy meets, for log lines ("ECONNREFUSED: connection refused"). */
const NAMES: Record<number, string> = {
  4: "EINTR",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  22: "EINVAL",
  23: "ENFILE: too many open files in system",
  24: "EMFILE: too many open files",
  32: "EPIPE: broken pipe",
  97: "EAFNOSUPPORT: address family not supported",
  98: "EADDRINUSE: address already in use",
  99: "EADDRNOTAVAIL: cannot assign requested address",
  101: "ENETUNREACH: network is unreachable",
  103: "ECONNABORTED: connection aborted",
  104: "ECONNRESET: connection reset by peer",
  105: "ENOBUFS",
  110: "ETIMEDOUT: connection timed out",
  111: "ECONNREFUSED: connection refused",
  113: "EHOSTUNREACH: no route to host",
  115: "EINPROGRESS",
};

export function errnoText(e: number): string {
  return NAMES[e] ?? `errno ${e}`;
}
