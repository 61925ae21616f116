/** Error kinds for the "errors by kind" section, from the socket error codes. */
export function classifyError(err: unknown, phase: "connect" | "receive"): string {
  const code = (err as { code?: string } | null)?.code ?? "";
  switch (code) {
    case "ECONNREFUSED":
      return "refused";
    case "ECONNRESET":
      return "reset";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EADDRNOTAVAIL":
      return "unreachable";
    case "ENOTFOUND":
    case "EAI_NONAME":
    case "DNSException":
      return "dns";
    case "ETIMEDOUT":
      return "timeout";
    case "EPIPE":
      return "write";
    default:
      return code ? `${phase}:${code}` : phase === "connect" ? "connect" : "receive";
  }
}

/** errno values a client socket meets, by their code names (what Bun's errors carry). */
const ERRNO_CODES: Record<number, string> = {
  4: "EINTR",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  32: "EPIPE",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  100: "ENETDOWN",
  101: "ENETUNREACH",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  105: "ENOBUFS",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  113: "EHOSTUNREACH",
};

/** The error kind of a failed libc call (errno), as classifyError names Bun's errors. */
export function classifyErrno(errno: number, phase: "connect" | "receive"): string {
  return classifyError({ code: ERRNO_CODES[errno] ?? `errno${errno}` }, phase);
}
