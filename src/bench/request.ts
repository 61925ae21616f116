/**
 * The request, built once: every request of a run is the same bytes, so the hot path writes
 * one prebuilt buffer. Header order follows ab 2.3: request line, Connection, Cookie,
 * Authorization, Content-length/Content-type (with a body), the user's -H lines, then Host,
 * User-Agent and Accept unless the user gave them.
 */
import type { BenchOptions } from "./api.ts";
import type { Target } from "./target.ts";

export const USER_AGENT = "uvs-bench/0.1 (ApacheBench/2.3 compatible)";

export function requestHead(opts: BenchOptions, t: Target): string {
  const method = opts.method ?? (opts.body ? "POST" : "GET");
  const lines = [`${method} ${t.path} HTTP/1.0`];
  if (opts.keepAlive) lines.push("Connection: Keep-Alive");
  const user = opts.headers ?? [];
  if (opts.body) {
    lines.push(`Content-length: ${opts.body.length}`);
    lines.push(`Content-type: ${opts.contentType || "text/plain"}`);
  }
  const given = new Set<string>();
  for (const [k, v] of user) {
    lines.push(`${k}: ${v}`);
    given.add(k.toLowerCase());
  }
  if (!given.has("host")) lines.push(`Host: ${t.hostHeader}`);
  if (!given.has("user-agent")) lines.push(`User-Agent: ${USER_AGENT}`);
  if (!given.has("accept")) lines.push("Accept: */*");
  return lines.join("\r\n") + "\r\n\r\n";
}

/** Head and body in one buffer, so a request is one write (one syscall) in the common case. */
export function buildRequest(opts: BenchOptions, t: Target): Uint8Array {
  const head = new TextEncoder().encode(requestHead(opts, t));
  if (!opts.body?.length) return head;
  const all = new Uint8Array(head.length + opts.body.length);
  all.set(head, 0);
  all.set(opts.body, head.length);
  return all;
}
