/**
 * The Connections screen's filter (pure): `svc=VIP:PORT rs=RIP:PORT state=EST client=ADDR proto=tcp`,
 * any other word matches an address or state anywhere. Terms combine with AND.
 */
import { printConn, procConnLine } from "../src/cli/ipvsadm/conn.ts";
import { parseIp } from "../src/model/addr.ts";
import type { SnapConn } from "../src/model/snapshot.ts";
import { NUMERIC_NAMES } from "./service-rows.ts";

export const CONN_TITLE = "pro expire state       source             virtual            destination";

type Field = "svc" | "rs" | "client" | "state" | "proto" | "any";
interface Term {
  field: Field;
  /** lower-case text for state/proto/any; the normalized address for svc/rs/client */
  text: string;
  /** null when the term names no port */
  port: number | null;
}

const FIELD_ALIASES: Record<string, Field> = {
  svc: "svc",
  service: "svc",
  vip: "svc",
  rs: "rs",
  real: "rs",
  server: "rs",
  dest: "rs",
  client: "client",
  src: "client",
  state: "state",
  proto: "proto",
};

/** `a.b.c.d`, `a.b.c.d:p`, `[v6]:p` or `v6` → normalized address text and port. */
function target(text: string): { addr: string; port: number | null } {
  const v6 = /^\[(.+)\](?::(\d+))?$/.exec(text);
  if (v6) return { addr: parseIp(v6[1])?.text ?? v6[1], port: v6[2] ? Number(v6[2]) : null };
  const v4 = /^([^:]+):(\d+)$/.exec(text);
  if (v4) return { addr: parseIp(v4[1])?.text ?? v4[1], port: Number(v4[2]) };
  return { addr: parseIp(text)?.text ?? text, port: null };
}

export interface ConnFilter {
  terms: Term[];
  /** Words that could not be read, e.g. `foo=bar` with an unknown field */
  errors: string[];
}

export function parseConnFilter(text: string): ConnFilter {
  const terms: Term[] = [];
  const errors: string[] = [];
  for (const word of text.trim().split(/\s+/)) {
    if (!word) continue;
    const eq = word.indexOf("=");
    if (eq < 0) {
      terms.push({ field: "any", text: word.toLowerCase(), port: null });
      continue;
    }
    const field = FIELD_ALIASES[word.slice(0, eq).toLowerCase()];
    const value = word.slice(eq + 1);
    if (!field || !value) {
      errors.push(word);
      continue;
    }
    if (field === "state" || field === "proto") terms.push({ field, text: value.toLowerCase(), port: null });
    else {
      const t = target(value);
      terms.push({ field, text: t.addr, port: t.port });
    }
  }
  return { terms, errors };
}

const hit = (addr: string, port: number, t: Term) => addr === t.text && (t.port === null || port === t.port);

function matches(c: SnapConn, t: Term): boolean {
  switch (t.field) {
    case "svc":
      return hit(c.virtual_address, c.virtual_port, t);
    case "rs":
      return hit(c.dest_address, c.dest_port, t);
    case "client":
      return hit(c.client_address, c.client_port, t);
    case "state":
      return c.state.toLowerCase().startsWith(t.text);
    case "proto":
      return c.protocol.toLowerCase() === t.text;
    default:
      return (
        c.client_address.includes(t.text) ||
        c.virtual_address.includes(t.text) ||
        c.dest_address.includes(t.text) ||
        c.state.toLowerCase().startsWith(t.text)
      );
  }
}

/** Indices of the connections the filter keeps; null when it keeps them all (no copy of 100,000). */
export function filterConnections(conns: readonly SnapConn[], f: ConnFilter): Uint32Array | null {
  if (f.terms.length === 0) return null;
  const out = new Uint32Array(conns.length);
  let n = 0;
  for (let i = 0; i < conns.length; i++) {
    const c = conns[i];
    let ok = true;
    for (const t of f.terms)
      if (!matches(c, t)) {
        ok = false;
        break;
      }
    if (ok) out[n++] = i;
  }
  return out.subarray(0, n);
}

/** One -Lnc line, as ipvsadm prints it. */
export function connText(c: SnapConn): string {
  return printConn(procConnLine(c), true, false, NUMERIC_NAMES).trimEnd();
}

/** The filter that shows one service's (and optionally one real server's) connections. */
export function filterFor(vip: string, rs?: string): string {
  return rs ? `svc=${vip} rs=${rs}` : `svc=${vip}`;
}
