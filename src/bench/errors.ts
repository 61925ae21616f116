import { errnoCode } from "../sys/errno.ts";

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

/** The error kind of a failed libc call (errno), as classifyError names Bun's errors. */
export function classifyErrno(errno: number, phase: "connect" | "receive"): string {
  return classifyError({ code: errnoCode(errno) ?? `errno${errno}` }, phase);
}
