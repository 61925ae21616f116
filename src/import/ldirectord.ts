/**
 * ldirectord.cf → a keepalived-syntax rules file with the same behaviour (§4.9):
 * checkinterval → delay_loop, failurecount → retry (failurecount−1, checkinterval apart),
 * checktimeout / negotiatetimeout → connect_timeout, quiescent=yes → inhibit_on_failure,
 * fallback → sorry_server, and `alpha` + `warmup 0` because ldirectord starts real servers down
 * and checks them all at once. http/https negotiate → HTTP_GET/SSL_GET (regex = receive), smtp →
 * SMTP_CHECK, connect → TCP_CHECK, external → MISC_CHECK, other negotiate services → MISC_CHECK
 * running `uvs health negotiate` (in-process). What has no equivalent is a comment and a warning.
 */

import { parseRules } from "../rules/load.ts";
import {
  type LdConfig,
  type LdReal,
  type LdVirtual,
  PORT_NAMES,
  parseLdirectord,
} from "./ldirectord-parse.ts";

/** The service a port implies (§4.3); none otherwise. */
const SERVICE_BY_PORT: Readonly<Record<number, string>> = {
  21: "ftp",
  25: "smtp",
  53: "dns",
  80: "http",
  110: "pop",
  119: "nntp",
  143: "imap",
  389: "ldap",
  443: "https",
  587: "submission",
  636: "ldaps",
  993: "imaps",
  995: "pops",
  1521: "oracle",
  1812: "radius",
  3128: "http_proxy",
  3306: "mysql",
  5060: "sip",
  5432: "pgsql",
};

const METHOD = { gate: "DR", masq: "NAT", ipip: "TUN" } as const;
const IGNORED = new Set([
  "logfile",
  "autoreload",
  "supervised",
  "fork",
  "cleanstop",
  "servicename",
  "comment",
]);

export interface ImportResult {
  text: string;
  errors: string[];
  warnings: string[];
}

class Opts {
  constructor(
    private readonly v: LdVirtual,
    private readonly g: Map<string, string>,
  ) {}
  get(k: string): string | undefined {
    return this.v.opts.get(k) ?? this.g.get(k);
  }
  /** checktimeout and negotiatetimeout default to each other, virtual first, then global. */
  timeouts(): { check: number; negotiate: number } {
    const ct = this.v.opts.get("checktimeout") ?? this.g.get("checktimeout");
    const nt = this.v.opts.get("negotiatetimeout") ?? this.g.get("negotiatetimeout");
    return { check: Number(ct ?? nt ?? 5), negotiate: Number(nt ?? ct ?? 30) };
  }
}

const q = (s: string) => `"${s.replace(/"/g, "'")}"`;
const sq = (s: string) => `'${s.replace(/'/g, "")}'`;
const hostPort = (h: string, p: number) => (h.includes(":") ? `[${h}]:${p}` : `${h}:${p}`);

function serviceOf(v: LdVirtual, o: Opts): string {
  const s = o.get("service");
  if (s) return s;
  return v.fwmark === null ? (SERVICE_BY_PORT[v.port] ?? "none") : "none";
}

function negotiateMisc(
  service: string,
  host: string,
  port: number,
  o: Opts,
  r: LdReal,
  timeout: number,
): string[] {
  const args = [`uvs health negotiate ${service} ${hostPort(host, port)}`];
  const request = r.request ?? o.get("request");
  const receive = r.receive ?? o.get("receive");
  if (request) args.push(`--request ${sq(request)}`);
  if (receive) args.push(`--receive ${sq(receive)}`);
  for (const k of ["virtualhost", "login", "passwd"]) {
    const val = o.get(k);
    if (val) args.push(`--${k} ${sq(val)}`);
  }
  if (o.get("httpmethod") === "HEAD") args.push("--method HEAD");
  return [
    "MISC_CHECK {",
    `    misc_path ${q(args.join(" "))}`,
    `    misc_timeout ${Math.ceil(timeout)}`,
    "}",
  ];
}

function httpChecker(service: string, o: Opts, r: LdReal, timeout: number, port: number | null): string[] {
  const req = r.request ?? o.get("request") ?? "/";
  const path = req.startsWith("/") ? req : `/${req}`;
  const receive = r.receive ?? o.get("receive");
  const url = ["    url {", `        path ${q(path)}`, "        status_code 200-299"];
  if (receive) url.push(`        regex ${q(receive)}`);
  url.push("    }");
  const out = [`${service === "https" ? "SSL_GET" : "HTTP_GET"} {`, ...url];
  const vh = o.get("virtualhost");
  if (vh) out.push(`    virtualhost ${q(vh)}`);
  out.push("    http_protocol 1.0C", `    connect_timeout ${timeout}`);
  if (port !== null) out.push(`    connect_port ${port}`);
  return [...out, "}"];
}

/** The checker block for one real server (no lines: always up). */
function checker(v: LdVirtual, o: Opts, r: LdReal, warn: (m: string) => void): string[] {
  const type = o.get("checktype") ?? "negotiate";
  const { check, negotiate } = o.timeouts();
  const checkport = o.get("checkport");
  const port = Number(checkport ?? r.port ?? v.port);
  const portLine = checkport || (v.fwmark !== null && r.port === null) ? [`    connect_port ${port}`] : [];
  if (type === "on" || type === "off") {
    if (type === "off")
      warn(`virtual at line ${v.line}: checktype=off: real servers are added and never checked`);
    return [];
  }
  if (type === "connect") {
    if (o.get("protocol") === "udp") return ["PING_CHECK {", `    connect_timeout ${check}`, "}"];
    return ["TCP_CHECK {", ...portLine, `    connect_timeout ${check}`, "}"];
  }
  if (type === "ping") return ["PING_CHECK {", `    connect_timeout ${check}`, "}"];
  if (type === "external" || type === "external-perl") {
    const cmd = o.get("checkcommand") ?? "/bin/true";
    const vip = v.fwmark ?? v.addr;
    const line = `${cmd} ${vip} ${v.port} ${r.addr} ${r.port ?? v.port}`;
    return ["MISC_CHECK {", `    misc_path ${q(line)}`, `    misc_timeout ${Math.ceil(check)}`, "}"];
  }
  if (/^\d+$/.test(type))
    warn(`virtual at line ${v.line}: checktype=${type} (combined): uvs runs the negotiate check every round`);
  else if (type !== "negotiate") {
    warn(`virtual at line ${v.line}: unknown checktype '${type}': no checker`);
    return [];
  }
  const service = serviceOf(v, o);
  if (service === "none") return [];
  const receive = r.receive ?? o.get("receive");
  if (
    (service === "http" || service === "https") &&
    o.get("httpmethod") !== "HEAD" &&
    !r.request?.startsWith("http")
  )
    return httpChecker(service, o, r, negotiate, checkport ? port : null);
  if ((service === "smtp" || service === "submission") && !o.get("login"))
    return ["SMTP_CHECK {", ...portLine, `    connect_timeout ${negotiate}`, "}"];
  if (service === "dns" && !receive) {
    const name = r.request ?? o.get("request") ?? ".";
    return [
      "DNS_CHECK {",
      ...portLine,
      "    type A",
      `    name ${q(name.replace(/^\//, ""))}`,
      `    connect_timeout ${negotiate}`,
      "}",
    ];
  }
  return negotiateMisc(service, r.addr, port, o, r, negotiate);
}

function realServer(v: LdVirtual, o: Opts, r: LdReal, warn: (m: string) => void): string[] {
  const port = r.port ?? (v.fwmark === null ? v.port : null);
  const out = [`real_server ${r.addr}${port === null ? "" : ` ${port}`} {`, `    weight ${r.weight}`];
  out.push(`    lvs_method ${METHOD[r.method]}`);
  if (r.upper) out.push(`    uthreshold ${r.upper}`);
  if (r.lower) out.push(`    lthreshold ${r.lower}`);
  out.push(...checker(v, o, r, warn).map((l) => `    ${l}`), "}");
  return out;
}

function sorryServer(v: LdVirtual, o: Opts): string[] {
  const f = o.get(v.v6 ? "fallback6" : "fallback");
  if (!f) return [];
  const m = /^\[?([0-9a-fA-F:.]+?)\]?(?::(\w+))?(?:\s+\w+)?$/.exec(f);
  if (!m) return [`# ldirectord fallback=${f} could not be read`];
  const port = m[2] ? (PORT_NAMES[m[2]] ?? Number(m[2])) : v.port;
  return [`sorry_server ${m[1]}${port ? ` ${port}` : ""}`];
}

function header(v: LdVirtual, o: Opts): string[] {
  const proto = o.get("protocol") ?? (v.fwmark !== null ? "fwm" : v.port === 53 ? "udp" : "tcp");
  const head =
    v.fwmark !== null ? `virtual_server fwmark ${v.fwmark} {` : `virtual_server ${v.addr} ${v.port} {`;
  const lines = [`lvs_sched ${o.get("scheduler") ?? "wrr"}`];
  const first = v.reals[0];
  lines.push(`lvs_method ${first ? METHOD[first.method] : "DR"}`);
  if (proto !== "fwm") lines.push(`protocol ${proto.toUpperCase()}`);
  if (v.v6 && v.fwmark !== null) lines.push("ip_family inet6");
  const persistent = o.get("persistent");
  if (persistent) {
    lines.push(`persistence_timeout ${persistent}`);
    const mask = o.get(v.v6 ? "prefixlen" : "netmask");
    if (mask) lines.push(`persistence_granularity ${mask}`);
  }
  if (o.get("ops") === "yes") lines.push("ops");
  return [head, ...lines.map((l) => `    ${l}`)];
}

function timing(o: Opts): string[] {
  const interval = Number(o.get("checkinterval") ?? 10);
  const failures = Math.max(1, Number(o.get("failurecount") ?? 1));
  const out = [
    "# ldirectord starts real servers down and checks them all at once",
    "alpha",
    "warmup 0",
    `delay_loop ${interval}`,
    `retry ${failures - 1}`,
    `delay_before_retry ${interval}`,
  ];
  if (o.get("quiescent") === "yes") out.push("inhibit_on_failure");
  return out;
}

function virtualText(v: LdVirtual, g: Map<string, string>, warn: (m: string) => void): string {
  const o = new Opts(v, g);
  for (const k of v.opts.keys())
    if (["fallbackcommand", "emailalert", "monitorfile", "database", "secret", "schedflags"].includes(k))
      warn(`virtual at line ${v.line}: ${k}= has no uvs equivalent (ignored)`);
  const lines = [...header(v, o), ...[...timing(o), ...sorryServer(v, o)].map((l) => `    ${l}`)];
  for (const r of v.reals) lines.push(...realServer(v, o, r, warn).map((l) => `    ${l}`));
  return `${lines.join("\n")}\n}\n`;
}

/** Translate ldirectord.cf text; `errors` non-empty means ldirectord itself would refuse it. */
export function importLdirectord(text: string, source = "ldirectord.cf"): ImportResult {
  const cfg: LdConfig = parseLdirectord(text);
  const warnings: string[] = [];
  if (!cfg.globals.has("quiescent"))
    warnings.push(
      "quiescent not set: ldirectord's code defaults to no (its man page says yes); importing as no",
    );
  for (const k of cfg.globals.keys())
    if (
      !IGNORED.has(k) &&
      ![
        "checktimeout",
        "negotiatetimeout",
        "checkinterval",
        "failurecount",
        "quiescent",
        "fallback",
        "fallback6",
      ].includes(k)
    )
      warnings.push(`${k}= has no uvs equivalent (ignored)`);
  const errors = [...cfg.errors];
  const body = cfg.virtuals.map((v) => {
    const t = virtualText(v, cfg.globals, (m) => warnings.push(m));
    // Values pass through as written (scheduler=, persistent=, netmask= …): what the rules
    // parser would refuse is an error of the import, never a file that will not load.
    for (const e of parseRules("import.conf", t).diagnostics)
      if (e.severity === "error") errors.push(`virtual at line ${v.line}: ${e.message}`);
    return t;
  });
  const text2 = [`# Imported from ${source} by uvs import ldirectord`, "", body.join("\n")].join("\n");
  return { text: text2, errors, warnings };
}
