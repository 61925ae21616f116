/**
 * virtual_server … { … } (§1.6) → what the file says about one virtual server block: its header
 * (address, fwmark or group), its settings and its real servers. Defaults and the per-service
 * rules are applied in service-rules.ts.
 */
import { type Family, type IpAddr, parseIpv4Strict } from "../model/addr.ts";
import type { Protocol } from "../model/service.ts";
import { isSchedulerName } from "../sched/registry.ts";
import { table } from "../util/table.ts";
import type { Stmt } from "./cst.ts";
import { checkerRule, keepStmt, unknownStmt } from "./kept.ts";
import { CHECKERS, VS_ACTED, VS_KEPT } from "./keywords.ts";
import { type ListenSpec, parseListen } from "./listen.ts";
import type { SorryServer } from "./model.ts";
import { firstOf, MAX_WEIGHT, parseRealServer, proxyProtocolArg, type RsSpec } from "./real-server.ts";
import {
  arity,
  type Ctx,
  intArg,
  ipArg,
  type Method,
  methodArgs,
  portArg,
  stmtPos,
  tokPos,
  wantsBlock,
} from "./values.ts";

export type VsHeader =
  | { kind: "addr"; addr: IpAddr; port: number }
  | { kind: "fwmark"; fwmark: number }
  | { kind: "group"; name: string };

export interface VsSpec {
  stmt: Stmt;
  header: VsHeader;
  scheduler: string | null;
  method: Method | null;
  protocol: Protocol | null;
  /** persistence_timeout (bare: 360); null when absent. */
  timeout: number | null;
  /** persistence_granularity: an IPv4 mask (u32) or an IPv6 prefix length. */
  granularity: { v4: number | null; v6: number | null; stmt: Stmt } | null;
  peName: string | null;
  /** ops and scheduler flag keywords, by name, with their statements (checked against lvs_sched later). */
  flagStmts: Stmt[];
  weight: number | null;
  ipFamily: Family | null;
  proxyProtocol: "v1" | "v2" | null;
  listen: ListenSpec[];
  rs: RsSpec[];
  sorryServer: SorryServer | null;
  quorum: number;
  hysteresis: number;
  kept: Stmt[];
  seen: Map<string, Stmt>;
}

export const MAX_TIMEOUT = 2678400;
export const DEFAULT_PERSISTENCE = 360;

function parseHeader(ctx: Ctx, s: Stmt): VsHeader | null {
  const [a, b, extra] = s.args;
  const usage = "'ADDRESS [PORT]', 'fwmark N' or 'group NAME'";
  if (!a || extra) {
    ctx.diags.error(extra ? tokPos(s.file, extra) : stmtPos(s), `'virtual_server' expects ${usage}`);
    return null;
  }
  if (a.text === "fwmark" || a.text === "group") {
    if (!b) {
      ctx.diags.error(
        tokPos(s.file, a),
        `'virtual_server ${a.text}' needs a ${a.text === "group" ? "name" : "mark"}`,
      );
      return null;
    }
    if (a.text === "group") return { kind: "group", name: b.text };
    const fwmark = intArg(ctx, s, b, 1, 0xffffffff, "fwmark");
    return fwmark === null ? null : { kind: "fwmark", fwmark };
  }
  const addr = ipArg(ctx, s, a, "virtual server address");
  const port = b ? portArg(ctx, s, b) : 0;
  return addr && port !== null ? { kind: "addr", addr, port } : null;
}

const PROTOCOLS: Record<string, Protocol> = table({ tcp: "tcp", udp: "udp", sctp: "sctp" });

function granularityArg(ctx: Ctx, s: Stmt): VsSpec["granularity"] {
  if (!arity(ctx, s, 1, 1, "a netmask (IPv4) or a prefix length 1..128 (IPv6)")) return null;
  const t = s.args[0];
  const mask = parseIpv4Strict(t.text);
  if (mask !== null) {
    // A contiguous mask: ones then zeros.
    if (((~mask >>> 0) & ((~mask >>> 0) + 1)) !== 0) {
      ctx.diags.error(tokPos(s.file, t), `invalid netmask '${t.text}': the one bits must be contiguous`);
      return null;
    }
    return { v4: mask, v6: null, stmt: s };
  }
  const len = intArg(ctx, s, t, 1, 128, "persistence granularity");
  return len === null ? null : { v4: null, v6: len, stmt: s };
}

function sorryArg(ctx: Ctx, s: Stmt): SorryServer | null {
  if (!arity(ctx, s, 1, 2, "'ADDRESS [PORT]'")) return null;
  const addr = ipArg(ctx, s, s.args[0], "sorry server address");
  const port = s.args[1] ? portArg(ctx, s, s.args[1]) : 0;
  return addr && port !== null ? { addr, port, pos: stmtPos(s) } : null;
}

function keptTyped(ctx: Ctx, vs: VsSpec, s: Stmt): void {
  const k = s.keyword.text;
  if (k === "sorry_server") vs.sorryServer = sorryArg(ctx, s);
  else if ((k === "quorum" || k === "hysteresis") && arity(ctx, s, 1, 1, "one integer")) {
    const n = intArg(ctx, s, s.args[0], 0, MAX_WEIGHT, k);
    if (n !== null) vs[k] = n;
  }
  vs.kept.push(keepStmt(ctx, s, "virtual_server"));
}

function scalar(ctx: Ctx, vs: VsSpec, s: Stmt): void {
  const k = s.keyword.text;
  const one = () => arity(ctx, s, 1, 1, "one value");
  switch (k) {
    case "lvs_sched":
    case "lb_algo":
      if (!one()) return;
      if (isSchedulerName(s.args[0].text)) vs.scheduler = s.args[0].text;
      else ctx.diags.error(tokPos(s.file, s.args[0]), `unknown scheduler '${s.args[0].text}'`);
      return;
    case "lvs_method":
    case "lb_kind":
      vs.method = methodArgs(ctx, s);
      return;
    case "protocol":
      if (!one()) return;
      vs.protocol = PROTOCOLS[s.args[0].text.toLowerCase()] ?? null;
      if (!vs.protocol)
        ctx.diags.error(
          tokPos(s.file, s.args[0]),
          `invalid protocol '${s.args[0].text}': expected TCP, UDP or SCTP`,
        );
      return;
    case "persistence_timeout":
      if (!arity(ctx, s, 0, 1, "an optional timeout in seconds")) return;
      // Many files say `persistence_timeout 0` for "not persistent"; keepalived rejects the value
      // and carries on without persistence, so uvs does the same, with a warning.
      if (s.args[0] && /^0+$/.test(s.args[0].text)) {
        ctx.diags.warn(
          tokPos(s.file, s.args[0]),
          "persistence_timeout 0 is outside 1..2678400; as keepalived does, the service is not persistent",
        );
        return;
      }
      vs.timeout = s.args[0]
        ? intArg(ctx, s, s.args[0], 1, MAX_TIMEOUT, "persistence timeout")
        : DEFAULT_PERSISTENCE;
      return;
    case "persistence_granularity":
      vs.granularity = granularityArg(ctx, s);
      return;
    case "persistence_engine":
      if (!one()) return;
      if (s.args[0].text === "sip") vs.peName = "sip";
      else
        ctx.diags.error(
          tokPos(s.file, s.args[0]),
          `unknown persistence engine '${s.args[0].text}': only 'sip' exists`,
        );
      return;
    case "weight":
      if (one()) vs.weight = intArg(ctx, s, s.args[0], 1, MAX_WEIGHT, "weight");
      return;
    case "ip_family":
      if (!one()) return;
      if (s.args[0].text === "inet" || s.args[0].text === "inet6") vs.ipFamily = s.args[0].text;
      else
        ctx.diags.error(
          tokPos(s.file, s.args[0]),
          `invalid address family '${s.args[0].text}': expected inet or inet6`,
        );
      return;
    case "proxy_protocol":
      vs.proxyProtocol = proxyProtocolArg(ctx, s);
      return;
    default:
      // ops, hashed and the scheduler flags: bare keywords, checked once the scheduler is known.
      if (arity(ctx, s, 0, 0, "no arguments")) vs.flagStmts.push(s);
  }
}

function vsStmt(ctx: Ctx, vs: VsSpec, s: Stmt): void {
  const k = s.keyword.text;
  if (k === "real_server") {
    const rs = parseRealServer(ctx, s);
    if (rs) vs.rs.push(rs);
  } else if (k === "proxy_listen") {
    const l = wantsBlock(ctx, s, false) ? parseListen(ctx, s) : null;
    if (l) vs.listen.push(l);
  } else if (VS_KEPT.has(k)) keptTyped(ctx, vs, s);
  else if (CHECKERS.has(k)) {
    ctx.diags.error(stmtPos(s), `health checker '${k}' belongs inside a real_server block`);
    checkerRule(ctx, s);
  } else if (!VS_ACTED.has(k)) unknownStmt(ctx, s, "virtual_server", [...VS_ACTED, ...VS_KEPT]);
  else if (wantsBlock(ctx, s, false) && firstOf(ctx, vs.seen, s)) scalar(ctx, vs, s);
}

/** Parse one virtual_server statement; null when its header is unusable (already reported). */
export function parseVirtualServer(ctx: Ctx, s: Stmt): VsSpec | null {
  if (!wantsBlock(ctx, s, true)) return null;
  const header = parseHeader(ctx, s);
  const vs: VsSpec = {
    stmt: s,
    header: header ?? { kind: "fwmark", fwmark: 0 },
    scheduler: null,
    method: null,
    protocol: null,
    timeout: null,
    granularity: null,
    peName: null,
    flagStmts: [],
    weight: null,
    ipFamily: null,
    proxyProtocol: null,
    listen: [],
    rs: [],
    sorryServer: null,
    quorum: 1,
    hysteresis: 0,
    kept: [],
    seen: new Map(),
  };
  // The body is read even under a bad header, so its errors are reported too.
  for (const inner of s.block?.body ?? []) vsStmt(ctx, vs, inner);
  return header ? vs : null;
}
