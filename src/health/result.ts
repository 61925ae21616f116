/**
 * What every checker returns (Seesaw's Result): never an exception, always a message that says
 * what was tried and, on failure, which step failed ("HTTP GET 127.0.0.1:80/health: status 503,
 * expected 200-299"), so the health history reads as a log.
 */
import { table } from "../util/table.ts";

export interface CheckResult {
  ok: boolean;
  message: string;
  latencyMs: number;
  /** Epoch ms when the check finished. */
  at: number;
  /** MISC_CHECK with misc_dynamic: the weight its exit code asks for. */
  weight?: number;
}

/** A check's start time and the action it names; `done` builds the result. */
export class Attempt {
  private readonly t0 = performance.now();
  constructor(readonly what: string) {}

  done(ok: boolean, detail = "", extra: Partial<CheckResult> = {}): CheckResult {
    const latencyMs = Math.round((performance.now() - this.t0) * 10) / 10;
    const message = detail ? `${this.what}: ${detail}` : `${this.what}: ok`;
    return { ok, message, latencyMs, at: Date.now(), ...extra };
  }

  fail(detail: string): CheckResult {
    return this.done(false, detail);
  }
}

/** A thrown value as a short reason. */
export function reason(e: unknown): string {
  if (e && typeof e === "object") {
    const o = e as { code?: unknown; message?: unknown };
    if (typeof o.code === "string" && /^E[A-Z]+$/.test(o.code)) return describeErrno(o.code);
    if (typeof o.message === "string") return o.message;
  }
  return String(e);
}

const ERRNO: Record<string, string> = table({
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "timed out",
  EADDRNOTAVAIL: "address not available",
  EPIPE: "broken pipe",
});

function describeErrno(code: string): string {
  return ERRNO[code] ?? code;
}

/** `addr:port` with IPv6 in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
