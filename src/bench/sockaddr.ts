/**
 * The target's socket address for the libc engine, resolved once before the run (ab resolves
 * once too): a literal address as is, a name through the system resolver (its first answer,
 * as ab takes getaddrinfo's first). Bytes are struct sockaddr_in / sockaddr_in6 (Linux layout).
 */
import { parseIp } from "../model/addr.ts";
import { AF_INET, AF_INET6, SOCKADDR_MAX, writeSockaddr } from "../sys/sockaddr.ts";

export interface SockAddr {
  family: number;
  /** sockaddr bytes, in their own ArrayBuffer (its address is handed to connect). */
  bytes: Uint8Array;
}

/** sockaddr for a literal address and port; null when `ip` is not an address. */
export function sockaddrOf(ip: string, port: number, scopeId = 0): SockAddr | null {
  const a = parseIp(ip);
  if (a === null) return null;
  const buf = new Uint8Array(new ArrayBuffer(SOCKADDR_MAX));
  const len = writeSockaddr(buf, a, port, scopeId);
  return { family: a.af === "inet" ? AF_INET : AF_INET6, bytes: buf.subarray(0, len) };
}

/**
 * Resolve `host` (a name, an address, or an IPv6 address with a numeric %scope) to a sockaddr.
 * Resolves to an error code (e.g. "ENOTFOUND") when the name has no address.
 */
export async function resolveSockaddr(host: string, port: number): Promise<SockAddr | string> {
  const pct = host.indexOf("%");
  if (pct > 0) {
    const scope = host.slice(pct + 1);
    if (!/^\d+$/.test(scope)) return "EAI_NONAME"; // interface names: use the bun engine
    return sockaddrOf(host.slice(0, pct), port, Number(scope)) ?? "EAI_NONAME";
  }
  const literal = sockaddrOf(host, port);
  if (literal !== null) return literal;
  try {
    const { lookup } = await import("node:dns/promises"); // names only: literals skip the module
    const r = await lookup(host);
    return sockaddrOf(r.address, port) ?? "EAI_NONAME";
  } catch (e) {
    return (e as { code?: string }).code ?? "ENOTFOUND";
  }
}
