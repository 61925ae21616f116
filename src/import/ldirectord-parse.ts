/**
 * ldirectord.cf (§4.1–4.4) → a typed model. Strict like ldirectord: an unknown directive or a bad
 * value is an error with its line number (ldirectord exits 2). Globals start in column 0; a
 * `virtual=` line opens a section of lines indented by ≥4 spaces or a tab.
 */
import { table } from "../util/table.ts";

export interface LdReal {
  line: number;
  addr: string;
  port: number | null;
  method: "gate" | "masq" | "ipip";
  weight: number;
  request: string | null;
  receive: string | null;
  lower: number;
  upper: number;
}

export interface LdVirtual {
  line: number;
  /** IP:port, or a fwmark. */
  addr: string | null;
  port: number;
  fwmark: number | null;
  v6: boolean;
  reals: LdReal[];
  /** The section's own directives (real= excluded). */
  opts: Map<string, string>;
}

export interface LdConfig {
  globals: Map<string, string>;
  virtuals: LdVirtual[];
  errors: string[];
}

export const GLOBAL_KEYS = new Set([
  "checktimeout",
  "negotiatetimeout",
  "checkinterval",
  "failurecount",
  "checkcount",
  "autoreload",
  "callback",
  "fallback",
  "fallback6",
  "fallbackcommand",
  "logfile",
  "emailalert",
  "emailalertfrom",
  "emailalertfreq",
  "emailalertstatus",
  "smtp",
  "execute",
  "supervised",
  "fork",
  "quiescent",
  "readdquiescent",
  "cleanstop",
  "maintenancedir",
]);

export const VIRTUAL_KEYS = new Set([
  "service",
  "checktype",
  "checkport",
  "request",
  "receive",
  "httpmethod",
  "virtualhost",
  "login",
  "passwd",
  "database",
  "secret",
  "checkcommand",
  "scheduler",
  "persistent",
  "netmask",
  "prefixlen",
  "protocol",
  "ops",
  "schedflags",
  "fallback",
  "fallback6",
  "fallbackcommand",
  "checktimeout",
  "negotiatetimeout",
  "checkcount",
  "failurecount",
  "checkinterval",
  "quiescent",
  "cleanstop",
  "emailalert",
  "emailalertfreq",
  "emailalertstatus",
  "smtp",
  "monitorfile",
  "servicename",
  "comment",
]);

/** Service names ldirectord's real= and virtual= accept for ports (/etc/services subset). */
export const PORT_NAMES: Readonly<Record<string, number>> = table({
  ftp: 21,
  smtp: 25,
  domain: 53,
  dns: 53,
  http: 80,
  www: 80,
  pop3: 110,
  nntp: 119,
  imap: 143,
  ldap: 389,
  https: 443,
  submission: 587,
  ldaps: 636,
  imaps: 993,
  pop3s: 995,
  mysql: 3306,
  postgresql: 5432,
  sip: 5060,
});

const unquote = (v: string) => v.trim().replace(/^"(.*)"$/, "$1");

function portOf(text: string): number | null {
  if (/^\d{1,5}$/.test(text) && Number(text) <= 65535) return Number(text);
  return PORT_NAMES[text] ?? null;
}

const V4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** `IP[->IP][:port]`; IPv6 as `[addr]:port`. */
function parseRealAddr(
  text: string,
  line: number,
  errors: string[],
): { addrs: string[]; port: number | null } | null {
  const m6 = /^\[([0-9a-fA-F:.]+)\](?::(\w+))?$/.exec(text);
  const m = m6 ?? /^([^:]+?)(?:->([^:]+))?(?::(\w+))?$/.exec(text);
  if (!m) return null;
  const portText = m6 ? m6[2] : m[3];
  const port = portText === undefined ? null : portOf(portText);
  if (portText !== undefined && port === null)
    errors.push(`line ${line}: unknown port or service '${portText}'`);
  if (m6) return { addrs: [m6[1]], port };
  const [from, to] = [m[1], m[2]];
  if (!V4.test(from) || (to && !V4.test(to))) {
    errors.push(`line ${line}: '${text}': uvs import needs numeric addresses (it resolves no host names)`);
    return null;
  }
  if (!to) return { addrs: [from], port };
  const a = from.split(".").map(Number);
  const b = to.split(".").map(Number);
  const addrs: string[] = [];
  const n = (x: number[]) => ((x[0] << 24) | (x[1] << 16) | (x[2] << 8) | x[3]) >>> 0;
  for (let v = n(a); v <= n(b) && addrs.length < 4096; v++)
    addrs.push([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join("."));
  return { addrs, port };
}

function parseReal(value: string, line: number, errors: string[]): LdReal[] {
  const quoted = [...value.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
  const words = value
    .replace(/"[^"]*"\s*,?/g, " ")
    .trim()
    .split(/\s+/);
  const where = parseRealAddr(words[0] ?? "", line, errors);
  const method = words[1];
  if (method !== "gate" && method !== "masq" && method !== "ipip") {
    errors.push(`line ${line}: real= needs a method gate, masq or ipip (got '${method ?? ""}')`);
    return [];
  }
  let weight = 1;
  let lower = 0;
  let upper = 0;
  for (const w of words.slice(2)) {
    if (/^\d+$/.test(w)) weight = Number(w);
    else if (/^l:\d+$/.test(w)) lower = Number(w.slice(2));
    else if (/^u:\d+$/.test(w)) upper = Number(w.slice(2));
    else errors.push(`line ${line}: unexpected '${w}' in real=`);
  }
  if (!where) return [];
  return where.addrs.map((addr) => ({
    line,
    addr,
    port: where.port,
    method,
    weight,
    request: quoted[0] ?? null,
    receive: quoted[1] ?? null,
    lower,
    upper,
  }));
}

function parseVirtualHeader(key: string, value: string, line: number, errors: string[]): LdVirtual | null {
  const base = { line, reals: [], opts: new Map<string, string>(), v6: key === "virtual6" };
  const v = value.trim();
  if (/^\d+$/.test(v)) return { ...base, addr: null, port: 0, fwmark: Number(v) };
  const m = /^\[?([0-9a-fA-F:.]+?)\]?:(\w+)$/.exec(v);
  const port = m ? portOf(m[2]) : null;
  if (!m || port === null || (!base.v6 && !V4.test(m[1]))) {
    errors.push(`line ${line}: ${key}=${v}: expected IP:port or a fwmark number (numeric, no host names)`);
    return null;
  }
  return { ...base, addr: m[1], port, fwmark: null };
}

export function parseLdirectord(text: string): LdConfig {
  const cfg: LdConfig = { globals: new Map(), virtuals: [], errors: [] };
  let cur: LdVirtual | null = null;
  text.split("\n").forEach((raw, i) => {
    const line = i + 1;
    if (/^\s*(#|$)/.test(raw)) return;
    const indented = /^( {4}|\t)/.test(raw.replace(/^ {0,3}\t/, "\t"));
    const body = indented ? raw.replace(/(^|\s)#.*$/, "") : raw;
    const m = /^\s*([\w-]+)\s*=\s*(.*?)\s*$/.exec(body);
    if (!m) {
      cfg.errors.push(`line ${line}: expected key=value, got ${JSON.stringify(raw.trim())}`);
      return;
    }
    const [key, value] = [m[1].toLowerCase(), m[2]];
    if (indented && cur) {
      if (key === "real" || key === "real6") cur.reals.push(...parseReal(value, line, cfg.errors));
      else if (VIRTUAL_KEYS.has(key)) cur.opts.set(key, unquote(value));
      else cfg.errors.push(`line ${line}: unknown directive '${key}' in a virtual section`);
      return;
    }
    cur = null;
    if (key === "virtual" || key === "virtual6") {
      cur = parseVirtualHeader(key, value, line, cfg.errors);
      if (cur) cfg.virtuals.push(cur);
    } else if (GLOBAL_KEYS.has(key)) cfg.globals.set(key, unquote(value));
    else cfg.errors.push(`line ${line}: unknown global directive '${key}'`);
  });
  return cfg;
}
