/**
 * DNS_CHECK: a UDP query (random ID, RD, class IN) for `name`/`type` (default `.` SOA); the reply
 * must carry the same ID, QR=1 and RCODE=0. Answers are not inspected (§1.8).
 */
import type { CheckContext } from "./checker.ts";
import { buildQuery, DNS_TYPE_CODES, type DnsReply, parseReply } from "./dns-wire.ts";
import { Attempt, type CheckResult, hostPort } from "./result.ts";
import { udpExchange } from "./udp-exchange.ts";

const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

export interface DnsQuery {
  host: string;
  port: number;
  bindto: string | null;
  timeoutMs: number;
  name: string;
  type: string;
}

/** The parsed reply, or a failure reason. */
export async function dnsQuery(q: DnsQuery): Promise<DnsReply | string> {
  const id = Math.floor(Math.random() * 0x10000);
  const out = await udpExchange({
    host: q.host,
    port: q.port,
    bindto: q.bindto,
    payload: buildQuery(id, q.name, DNS_TYPE_CODES[q.type] ?? 6),
    timeoutMs: q.timeoutMs,
    accept: (m) => m.length >= 2 && ((m[0] << 8) | m[1]) === id,
  });
  if ("timeout" in out) return `no reply within ${q.timeoutMs} ms`;
  if ("error" in out) return out.error;
  const r = parseReply(out.reply);
  if (!r) return "reply too short to be DNS";
  if (!r.qr) return "reply has QR=0";
  if (r.rcode !== 0) return `rcode ${RCODES[r.rcode] ?? r.rcode}`;
  return r;
}

export async function dnsCheck({ spec }: CheckContext): Promise<CheckResult> {
  const d = spec.dns ?? { type: "SOA", name: "." };
  const a = new Attempt(`DNS ${d.type} ${d.name} @${hostPort(spec.host, spec.port)}`);
  const r = await dnsQuery({
    host: spec.host,
    port: spec.port,
    bindto: spec.bindto,
    timeoutMs: spec.timing.connectTimeout,
    ...d,
  });
  return typeof r === "string" ? a.fail(r) : a.done(true, `NOERROR, ${r.answers.length} answers`);
}
