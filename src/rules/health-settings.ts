/**
 * Typed health settings from the kept checker blocks and statements (§1.6–1.8): timers resolved
 * along keepalived's inheritance (virtual_server → real_server → checker, the most specific wins)
 * with each checker type's defaults. keepalived is lenient with values: a bad one keeps the
 * default and is reported as a problem (a warning), never an error.
 */
import { formatAddrPort } from "../model/addr.ts";
import { table } from "../util/table.ts";
import type { Stmt } from "./cst.ts";
import type { CheckerRule, DestRule, Pos, ServiceRule } from "./model.ts";
import { stmtPos } from "./values.ts";

export interface Timing {
  /** All in milliseconds. */
  delayLoop: number;
  connectTimeout: number;
  retry: number;
  delayBeforeRetry: number;
  warmup: number;
  alpha: boolean;
}

export interface UrlSpec {
  path: string;
  /** Inclusive ranges; default 200–299. */
  status: [number, number][];
  digest: string | null;
  virtualhost: string | null;
  regex: string | null;
  regexNoMatch: boolean;
  regexCaseless: boolean;
}

export interface HttpSpec {
  urls: UrlSpec[];
  virtualhost: string | null;
  protocol: "1.0" | "1.0C" | "1.1";
  tls: boolean;
  /** SNI to send (enable_sni: the virtualhost or the address). */
  sni: string | null;
  fastRecovery: boolean;
}

export interface UdpSpec {
  payload: Uint8Array | null;
  /** Bytes and a mask (0 where the pattern has an X nibble); null: any reply, or none, is fine. */
  requireReply: { bytes: Uint8Array; mask: Uint8Array } | null;
  minReply: number;
  maxReply: number;
}

export interface CheckSpec {
  type: string;
  pos: Pos;
  timing: Timing;
  /** The connect destination (connect_ip / connect_port, else the real server's). */
  host: string;
  port: number;
  bindto: string | null;
  http?: HttpSpec;
  smtp?: { helo: string };
  dns?: { type: string; name: string };
  udp?: UdpSpec;
  misc?: { path: string; timeoutMs: number; dynamic: boolean };
}

export interface DestHealth {
  /** `addr:port` of the real server. */
  server: string;
  inhibit: boolean;
  alpha: boolean;
  notifyUp: string | null;
  notifyDown: string | null;
  checks: CheckSpec[];
}

export interface ServiceHealth {
  inhibit: boolean;
  alpha: boolean;
  omega: boolean;
  quorumUp: string | null;
  quorumDown: string | null;
  sorryInhibit: boolean;
}

export interface SettingsProblem {
  pos: Pos;
  message: string;
}

const RETRY: Record<string, number> = table({ DNS_CHECK: 3, MISC_CHECK: 0 });
const BEFORE_RETRY: Record<string, number> = table({ HTTP_GET: 3000, SSL_GET: 3000 });
const SOCKET_DEFAULTS = { delayLoop: 60_000, connectTimeout: 5000 };
const DNS_TYPES = new Set(["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA", "RRSIG", "DNSKEY"]);

/** Settings lookups over a chain of statement lists, most specific first. */
class Scope {
  constructor(
    private readonly lists: readonly (readonly Stmt[])[],
    private readonly problems: SettingsProblem[],
  ) {}

  find(keyword: string): Stmt | null {
    for (const l of this.lists) {
      const s = l.find((x) => x.keyword.text === keyword);
      if (s) return s;
    }
    return null;
  }

  bad(s: Stmt, what: string): null {
    this.problems.push({ pos: stmtPos(s), message: `invalid ${what} '${argText(s)}'; using the default` });
    return null;
  }

  /** Decimal seconds → ms. */
  seconds(keyword: string): number | null {
    const s = this.find(keyword);
    if (!s) return null;
    const t = s.args[0]?.text ?? "";
    return /^\d+(\.\d{1,6})?$/.test(t) ? Math.round(Number(t) * 1000) : this.bad(s, keyword);
  }

  int(keyword: string, max = 0x7fffffff): number | null {
    const s = this.find(keyword);
    if (!s) return null;
    const t = s.args[0]?.text ?? "";
    return /^\d{1,10}$/.test(t) && Number(t) <= max ? Number(t) : this.bad(s, keyword);
  }

  /** A bare flag, or one with an optional boolean. */
  flag(keyword: string): boolean | null {
    const s = this.find(keyword);
    if (!s) return null;
    const t = s.args[0]?.text.toLowerCase();
    if (t === undefined || ["on", "true", "yes"].includes(t)) return true;
    if (["off", "false", "no"].includes(t)) return false;
    return this.bad(s, keyword);
  }

  text(keyword: string): string | null {
    const s = this.find(keyword);
    return s ? argText(s) : null;
  }
}

const argText = (s: Stmt) => s.args.map((a) => a.text).join(" ");

function timing(type: string, sc: Scope): Timing {
  const delayLoop = sc.seconds("delay_loop") ?? SOCKET_DEFAULTS.delayLoop;
  const retry =
    sc.int("retry") ?? (type === "HTTP_GET" || type === "SSL_GET" ? sc.int("nb_get_retry") : null);
  return {
    delayLoop,
    connectTimeout: sc.seconds("connect_timeout") ?? SOCKET_DEFAULTS.connectTimeout,
    retry: retry ?? RETRY[type] ?? 1,
    delayBeforeRetry:
      sc.seconds("delay_before_retry") ?? (type === "DNS_CHECK" ? delayLoop : (BEFORE_RETRY[type] ?? 1000)),
    warmup: sc.seconds("warmup") ?? delayLoop,
    alpha: sc.flag("alpha") ?? false,
  };
}

function statusRanges(s: Stmt | null, sc: Scope): [number, number][] {
  if (!s) return [[200, 299]];
  const out: [number, number][] = [];
  for (const a of s.args) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(a.text);
    const lo = Number(m?.[1]);
    const hi = Number(m?.[2] ?? m?.[1]);
    if (!m || lo < 100 || hi > 599 || hi < lo) sc.bad(s, "status_code");
    else out.push([lo, hi]);
  }
  return out.length ? out : [[200, 299]];
}

function urlSpec(u: Stmt, problems: SettingsProblem[]): UrlSpec {
  const sc = new Scope([u.block?.body ?? []], problems);
  const opts = sc.text("regex_options") ?? "";
  return {
    path: sc.text("path") ?? "/",
    status: statusRanges(sc.find("status_code"), sc),
    digest: sc.text("digest")?.toLowerCase() ?? null,
    virtualhost: sc.text("virtualhost"),
    regex: sc.text("regex"),
    regexNoMatch: sc.flag("regex_no_match") ?? false,
    regexCaseless: /\bcaseless\b/.test(opts),
  };
}

function httpSpec(c: CheckerRule, sc: Scope, problems: SettingsProblem[]): HttpSpec {
  const body = c.stmt.block?.body ?? [];
  const proto = sc.text("http_protocol") ?? "1.0";
  const vhost = sc.text("virtualhost");
  const sniName = sc.text("sni_name");
  const tls = c.type === "SSL_GET";
  return {
    urls: body.filter((s) => s.keyword.text === "url").map((u) => urlSpec(u, problems)),
    virtualhost: vhost,
    protocol: proto === "1.1" || proto === "1.0C" ? proto : "1.0",
    tls,
    sni: tls ? (sniName ?? (sc.flag("enable_sni") ? vhost : null)) : null,
    fastRecovery: sc.flag("fast_recovery") ?? false,
  };
}

/** `00 01 02` or `000102`; X nibbles only where `wild`. */
export function hexBytes(text: string, wild = false): { bytes: Uint8Array; mask: Uint8Array } | null {
  const h = text.replace(/\s+/g, "");
  if (h.length % 2 || !(wild ? /^[0-9a-fA-FxX]*$/ : /^[0-9a-fA-F]*$/).test(h)) return null;
  const bytes = new Uint8Array(h.length / 2);
  const mask = new Uint8Array(h.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    const [a, b] = [h[i * 2], h[i * 2 + 1]];
    const nib = (c: string) => (/[xX]/.test(c) ? [0, 0] : [Number.parseInt(c, 16), 15]);
    const [va, ma] = nib(a);
    const [vb, mb] = nib(b);
    bytes[i] = (va << 4) | vb;
    mask[i] = (ma << 4) | mb;
  }
  return { bytes, mask };
}

function udpSpec(sc: Scope): UdpSpec {
  const payloadS = sc.find("payload");
  const payload = payloadS ? (hexBytes(argText(payloadS))?.bytes ?? sc.bad(payloadS, "payload")) : null;
  const rr = sc.find("require_reply");
  let requireReply: UdpSpec["requireReply"] = null;
  if (rr) requireReply = hexBytes(argText(rr), true) ?? sc.bad(rr, "require_reply");
  return {
    payload,
    requireReply,
    minReply: sc.int("min_reply_length", 65535) ?? 0,
    maxReply: sc.int("max_reply_length", 65535) ?? 255,
  };
}

function checkSpec(
  c: CheckerRule,
  d: DestRule,
  vsKept: readonly Stmt[],
  problems: SettingsProblem[],
): CheckSpec {
  const own = c.stmt.block?.body ?? [];
  const sc = new Scope([own, d.kept, vsKept], problems);
  const local = new Scope([own], problems);
  const t = timing(c.type, sc);
  const spec: CheckSpec = {
    type: c.type,
    pos: c.pos,
    timing: t,
    host: local.text("connect_ip") ?? d.config.addr.text,
    port: local.int("connect_port", 65535) ?? d.config.port,
    bindto: local.text("bindto"),
  };
  if (c.type === "HTTP_GET" || c.type === "SSL_GET") {
    const vh = new Scope([own, d.kept, vsKept], problems);
    spec.http = httpSpec(c, vh, problems);
  } else if (c.type === "SMTP_CHECK")
    spec.smtp = { helo: local.text("helo_name") ?? "smtpchecker.keepalived.org" };
  else if (c.type === "DNS_CHECK") {
    const type = (local.text("type") ?? "SOA").toUpperCase();
    spec.dns = { type: DNS_TYPES.has(type) ? type : "SOA", name: local.text("name") ?? "." };
  } else if (c.type === "UDP_CHECK") spec.udp = udpSpec(local);
  else if (c.type === "MISC_CHECK") {
    const timeout = local.int("misc_timeout");
    spec.misc = {
      path: local.text("misc_path") ?? "",
      timeoutMs: timeout ? timeout * 1000 : t.delayLoop,
      dynamic: local.flag("misc_dynamic") ?? false,
    };
  }
  return spec;
}

/** The health settings of one real server of `svc`. */
export function destHealth(svc: ServiceRule, d: DestRule, problems: SettingsProblem[] = []): DestHealth {
  const sc = new Scope([d.kept, svc.kept], problems);
  return {
    server: formatAddrPort(d.config.addr, d.config.port),
    inhibit: sc.flag("inhibit_on_failure") ?? false,
    alpha: sc.flag("alpha") ?? false,
    notifyUp: new Scope([d.kept], problems).text("notify_up"),
    notifyDown: new Scope([d.kept], problems).text("notify_down"),
    checks: d.checkers.map((c) => checkSpec(c, d, svc.kept, problems)),
  };
}

/** The service-wide settings (inhibit and alpha are the real servers' defaults). */
export function serviceHealth(svc: ServiceRule, problems: SettingsProblem[] = []): ServiceHealth {
  const sc = new Scope([svc.kept], problems);
  return {
    inhibit: sc.flag("inhibit_on_failure") ?? false,
    alpha: sc.flag("alpha") ?? false,
    omega: sc.flag("omega") ?? false,
    quorumUp: sc.text("quorum_up"),
    quorumDown: sc.text("quorum_down"),
    sorryInhibit: sc.flag("sorry_server_inhibit") ?? false,
  };
}
