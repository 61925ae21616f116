/**
 * ldirectord's negotiate checks (§4.5), one exchange per service type under one timeout over the
 * whole exchange (negotiatetimeout): http/https (2xx and body =~ receive), smtp/submission, pop(s),
 * imap(s), ftp, nntp, ldap (anonymous bind), mysql (server greeting), pgsql (SSLRequest answer),
 * simpletcp (send, half-close, read lines until one matches receive), dns (an answer matches
 * receive), none (always up). oracle, radius, sip and http_proxy are checked by TCP connect only,
 * and say so in their message.
 *
 * In a rules file they are `MISC_CHECK { misc_path "uvs health negotiate SERVICE HOST:PORT …" }`,
 * which uvs runs in-process (and `uvs health negotiate` runs from a shell).
 */

import { table } from "../util/table.ts";
import { type Conversation, converse } from "./conversation.ts";
import { dnsQuery } from "./dns.ts";
import { httpProbe } from "./http.ts";
import { Attempt, type CheckResult, hostPort } from "./result.ts";
import { smtpReply } from "./smtp.ts";

export interface NegotiateSpec {
  service: string;
  host: string;
  port: number;
  request: string;
  receive: string;
  virtualhost: string | null;
  method: "GET" | "HEAD";
  login: string | null;
  passwd: string | null;
  timeoutMs: number;
}

export const NEGOTIATE_SERVICES = [
  "dns",
  "ftp",
  "http",
  "https",
  "http_proxy",
  "imap",
  "imaps",
  "ldap",
  "ldaps",
  "mysql",
  "nntp",
  "none",
  "oracle",
  "pgsql",
  "pop",
  "pops",
  "radius",
  "simpletcp",
  "sip",
  "smtp",
  "submission",
];

const TLS_SERVICES = new Set(["https", "imaps", "pops", "ldaps"]);

type Talk = (c: Conversation, s: NegotiateSpec, a: Attempt) => Promise<CheckResult>;

/** Read until a line (or the whole text) satisfies `re`. */
async function expectLine(
  c: Conversation,
  s: NegotiateSpec,
  re: RegExp,
  step: string,
): Promise<string | null> {
  const raw = await c.readUntil((b) => re.test(b.toString("latin1")), s.timeoutMs, 65536);
  if (typeof raw === "string") return `${step}: ${raw}`;
  const text = raw.toString("latin1");
  return re.test(text) ? null : `${step}: unexpected ${JSON.stringify(text.slice(0, 60))}`;
}

/** A banner, then an optional login, each step's reply checked by a pattern. */
function lineProtocol(banner: RegExp, steps: (s: NegotiateSpec) => [string, RegExp][], bye: string): Talk {
  return async (c, s, a) => {
    const b = await expectLine(c, s, banner, "banner");
    if (b) return a.fail(b);
    for (const [send, want] of steps(s)) {
      c.write(`${send}\r\n`);
      const why = await expectLine(c, s, want, send.split(" ")[0]);
      if (why) return a.fail(why);
    }
    c.write(`${bye}\r\n`);
    return a.done(true);
  };
}

const login = (s: NegotiateSpec) => s.login !== null;

const TALKS: Record<string, Talk> = table({
  pop: lineProtocol(
    /^\+OK/,
    (s) =>
      login(s)
        ? [
            [`USER ${s.login}`, /^\+OK/m],
            [`PASS ${s.passwd ?? ""}`, /^\+OK/m],
          ]
        : [],
    "QUIT",
  ),
  imap: lineProtocol(
    /^\* OK/,
    (s) => (login(s) ? [[`a1 LOGIN ${s.login} ${s.passwd ?? ""}`, /^a1 OK/m]] : []),
    "a2 LOGOUT",
  ),
  ftp: lineProtocol(
    /^220[ -]/m,
    (s) => [
      [`USER ${s.login ?? "anonymous"}`, /^(230|331)[ ]/m],
      [`PASS ${s.passwd ?? "ldirectord@localhost"}`, /^230[ ]/m],
    ],
    "QUIT",
  ),
  nntp: lineProtocol(/^20[01]/, () => [], "QUIT"),
  smtp: async (c, s, a) => {
    const banner = await smtpReply(c, s.timeoutMs);
    if (typeof banner === "string" || banner.code !== 220)
      return a.fail(`banner: ${typeof banner === "string" ? banner : banner.text}`);
    c.write("HELO localhost\r\n");
    const helo = await smtpReply(c, s.timeoutMs);
    if (typeof helo === "string" || helo.code !== 250)
      return a.fail(`HELO: ${typeof helo === "string" ? helo : helo.text}`);
    c.write("QUIT\r\n");
    return a.done(true);
  },
  simpletcp: async (c, s, a) => {
    c.write(s.request.replace(/\\n/g, "\n"));
    c.endWrite();
    const re = safeRegex(s.receive);
    const raw = await c.readUntil((b) => re.test(b.toString("utf8")), s.timeoutMs, 65536);
    if (typeof raw === "string") return a.fail(raw);
    return re.test(raw.toString("utf8")) ? a.done(true) : a.fail(`no line matches ${re}`);
  },
  ldap: async (c, s, a) => {
    // An anonymous LDAPv3 bind request; the reply must be a bindResponse with resultCode 0.
    c.write(
      new Uint8Array([0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00]),
    );
    const raw = await c.readUntil((b) => b.length >= 14, s.timeoutMs, 4096);
    if (typeof raw === "string") return a.fail(raw);
    const i = raw.indexOf(0x61);
    const ok = raw[0] === 0x30 && i > 0 && raw[i + 2] === 0x0a && raw[i + 4] === 0x00;
    return ok ? a.done(true, "anonymous bind accepted") : a.fail("no successful bindResponse");
  },
  mysql: async (c, s, a) => {
    const raw = await c.readUntil((b) => b.length >= 5, s.timeoutMs, 4096);
    if (typeof raw === "string") return a.fail(raw);
    return raw[4] === 10 ? a.done(true, "protocol 10 greeting") : a.fail("no MySQL greeting");
  },
  pgsql: async (c, s, a) => {
    c.write(new Uint8Array([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])); // SSLRequest
    const raw = await c.readUntil((b) => b.length >= 1, s.timeoutMs, 16);
    if (typeof raw === "string") return a.fail(raw);
    const ch = String.fromCharCode(raw[0] ?? 0);
    return ch === "S" || ch === "N" ? a.done(true, `SSLRequest answered ${ch}`) : a.fail("not PostgreSQL");
  },
  connect: async (_c, _s, a) => a.done(true, "TCP connect only (no negotiate exchange for this service)"),
});
TALKS.submission = TALKS.smtp;
TALKS.pops = TALKS.pop;
TALKS.imaps = TALKS.imap;
TALKS.ldaps = TALKS.ldap;

function safeRegex(text: string): RegExp {
  try {
    return new RegExp(text || ".");
  } catch {
    return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  }
}

async function negotiateHttp(s: NegotiateSpec): Promise<CheckResult> {
  const path = s.request.startsWith("/") ? s.request : `/${s.request}`;
  return httpProbe({
    host: s.host,
    port: s.port,
    bindto: null,
    timeoutMs: s.timeoutMs,
    tls: s.service === "https",
    sni: null,
    method: s.method,
    path,
    hostHeader: s.virtualhost ?? s.host,
    protocol: "1.0C",
    status: [[200, 299]],
    digest: null,
    regex: s.receive ? safeRegex(s.receive) : null,
    regexNoMatch: false,
  });
}

async function negotiateDns(s: NegotiateSpec): Promise<CheckResult> {
  const a = new Attempt(`negotiate dns ${s.request} @${hostPort(s.host, s.port)}`);
  const isIp = /^\d+\.\d+\.\d+\.\d+$/.test(s.request);
  const name = isIp ? `${s.request.split(".").reverse().join(".")}.in-addr.arpa` : s.request;
  const r = await dnsQuery({
    host: s.host,
    port: s.port,
    bindto: null,
    timeoutMs: s.timeoutMs,
    name,
    type: isIp ? "PTR" : "A",
  });
  if (typeof r === "string") return a.fail(r);
  const re = safeRegex(s.receive);
  const hit = r.answers.find((x) => re.test(x));
  return hit
    ? a.done(true, `answer ${hit}`)
    : a.fail(`no answer matches ${re} (${r.answers.join(", ") || "none"})`);
}

/** One negotiate check, bounded by `timeoutMs` as a whole (ldirectord's alarm). */
export async function negotiate(s: NegotiateSpec): Promise<CheckResult> {
  if (s.service === "none")
    return new Attempt(`negotiate none ${hostPort(s.host, s.port)}`).done(true, "service none always passes");
  if (s.service === "http" || s.service === "https") return negotiateHttp(s);
  if (s.service === "dns") return negotiateDns(s);
  const a = new Attempt(`negotiate ${s.service} ${hostPort(s.host, s.port)}`);
  const talk = TALKS[s.service] ?? TALKS.connect;
  const o = {
    host: s.host,
    port: s.port,
    timeoutMs: s.timeoutMs,
    tls: TLS_SERVICES.has(s.service) ? { servername: null } : undefined,
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const alarm = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve(a.fail(`no answer within ${s.timeoutMs} ms`)), s.timeoutMs);
  });
  const run = converse(
    o,
    (c) => talk(c, s, a),
    (why) => a.fail(why),
  );
  const r = await Promise.race([run, alarm]);
  clearTimeout(timer);
  return r;
}

/** `SERVICE HOST:PORT [--request R] [--receive RE] [--virtualhost H] [--method GET|HEAD] [--login L] [--passwd P] [--timeout S]` */
export function parseNegotiateArgs(args: string[], timeoutMs: number): NegotiateSpec | string {
  const [service, target, ...rest] = args;
  if (!service || !NEGOTIATE_SERVICES.includes(service))
    return `unknown negotiate service ${JSON.stringify(service ?? "")}`;
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target ?? "");
  if (!m) return `expected HOST:PORT, got ${JSON.stringify(target ?? "")}`;
  const s: NegotiateSpec = {
    service,
    host: m[1],
    port: Number(m[2]),
    request: "/",
    receive: "",
    virtualhost: null,
    method: "GET",
    login: null,
    passwd: null,
    timeoutMs,
  };
  for (let i = 0; i < rest.length; i += 2) {
    const [k, v] = [rest[i], rest[i + 1]];
    if (v === undefined) return `${k} needs a value`;
    if (k === "--request") s.request = v;
    else if (k === "--receive") s.receive = v;
    else if (k === "--virtualhost") s.virtualhost = v;
    else if (k === "--method") s.method = v === "HEAD" ? "HEAD" : "GET";
    else if (k === "--login") s.login = v;
    else if (k === "--passwd") s.passwd = v;
    else if (k === "--timeout") s.timeoutMs = Math.round(Number(v) * 1000) || timeoutMs;
    else return `unknown option ${JSON.stringify(k)}`;
  }
  return s;
}

export async function negotiateFromArgs(args: string[], timeoutMs: number): Promise<CheckResult> {
  const s = parseNegotiateArgs(args, timeoutMs);
  if (typeof s === "string") return new Attempt(`negotiate ${args.join(" ")}`).fail(s);
  return negotiate(s);
}
