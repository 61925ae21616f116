/**
 * HTTP_GET and SSL_GET (§1.8, §2.3): one URL per check, keepalived's request bytes, the body read
 * to EOF with connect_timeout per read, then in order: status in the set (default 2xx), MD5 of
 * the body equals `digest`, `regex` matches (or not, with regex_no_match). SSL_GET does not
 * verify the certificate.
 */
import { createHash } from "node:crypto";
import type { UrlSpec } from "../rules/health-settings.ts";
import type { CheckContext } from "./checker.ts";
import { converse } from "./conversation.ts";
import { Attempt, type CheckResult, hostPort } from "./result.ts";

export interface HttpProbe {
  host: string;
  port: number;
  bindto: string | null;
  timeoutMs: number;
  tls: boolean;
  sni: string | null;
  method: "GET" | "HEAD";
  path: string;
  /** The Host header. */
  hostHeader: string;
  protocol: "1.0" | "1.0C" | "1.1";
  status: [number, number][];
  digest: string | null;
  regex: RegExp | null;
  regexNoMatch: boolean;
}

/** The request keepalived sends (checked against genhash in the spec's lab). */
export function requestBytes(p: Pick<HttpProbe, "method" | "path" | "hostHeader" | "protocol">): string {
  const version = p.protocol === "1.1" ? "1.1" : "1.0";
  const close = p.protocol === "1.0" ? "" : "Connection: close\r\n";
  return `${p.method} ${p.path} HTTP/${version}\r\nUser-Agent: KeepAliveClient\r\n${close}Host: ${p.hostHeader}\r\n\r\n`;
}

interface Parsed {
  status: number;
  body: Buffer;
}

/** Status line and body; the body is capped by Content-Length when there is one. */
export function parseResponse(raw: Buffer): Parsed | string {
  if (raw.length === 0) return "empty reply";
  const end = raw.indexOf("\r\n\r\n");
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString("latin1");
  const m = /^HTTP\/\d\.\d (\d{3})/.exec(head);
  if (!m) return `not an HTTP response (${JSON.stringify(head.slice(0, 40))})`;
  let body = end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4);
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (cl) body = body.subarray(0, Number(cl[1]));
  return { status: Number(m[1]), body };
}

const rangeText = (r: [number, number][]) => r.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(",");

/** The first failing criterion of a response, or null when it passes. */
function verdict(p: HttpProbe, r: Parsed): string | null {
  if (!p.status.some(([a, b]) => r.status >= a && r.status <= b))
    return `status ${r.status}, expected ${rangeText(p.status)}`;
  if (p.digest) {
    const md5 = createHash("md5").update(r.body).digest("hex");
    if (md5 !== p.digest) return `digest ${md5}, expected ${p.digest}`;
  }
  if (p.regex) {
    const hit = p.regex.test(r.body.toString("utf8"));
    if (hit === p.regexNoMatch)
      return p.regexNoMatch ? `body matches ${p.regex} (regex_no_match)` : `body does not match ${p.regex}`;
  }
  return null;
}

export function httpProbe(p: HttpProbe): Promise<CheckResult> {
  const scheme = p.tls ? "HTTPS" : "HTTP";
  const a = new Attempt(`${scheme} ${p.method} ${hostPort(p.host, p.port)}${p.path}`);
  const o = {
    host: p.host,
    port: p.port,
    timeoutMs: p.timeoutMs,
    bindto: p.bindto,
    tls: p.tls ? { servername: p.sni } : undefined,
  };
  return converse(
    o,
    async (c) => {
      const err = c.write(requestBytes(p));
      if (err) return a.fail(err);
      const raw = await c.readUntil(() => false, p.timeoutMs);
      if (typeof raw === "string") return a.fail(raw);
      const parsed = parseResponse(raw);
      if (typeof parsed === "string") return a.fail(parsed);
      const why = verdict(p, parsed);
      return why ? a.fail(why) : a.done(true, `status ${parsed.status}`);
    },
    (why) => a.fail(why),
  );
}

function compile(u: UrlSpec): RegExp | null {
  if (!u.regex) return null;
  try {
    return new RegExp(u.regex, u.regexCaseless ? "i" : "");
  } catch {
    return null;
  }
}

export function httpCheck({ spec, url }: CheckContext): Promise<CheckResult> {
  const h = spec.http!;
  const u = h.urls[url] ?? h.urls[0];
  if (!u)
    return Promise.resolve(new Attempt(`${spec.type} ${hostPort(spec.host, spec.port)}`).fail("no url"));
  return httpProbe({
    host: spec.host,
    port: spec.port,
    bindto: spec.bindto,
    timeoutMs: spec.timing.connectTimeout,
    tls: h.tls,
    sni: h.sni,
    method: "GET",
    path: u.path,
    hostHeader: u.virtualhost ?? h.virtualhost ?? hostPort(spec.host, spec.port),
    protocol: h.protocol,
    status: u.status,
    digest: u.digest,
    regex: compile(u),
    regexNoMatch: u.regexNoMatch,
  });
}
