/**
 * real_server IP [PORT] { … } (§1.7) → what the file says about one real server, before the
 * virtual server's defaults and port rules are applied (see service-rules.ts).
 */
import type { IpAddr } from "../model/addr.ts";
import { table } from "../util/table.ts";
import type { Stmt } from "./cst.ts";
import { checkerRule, keepStmt, unknownStmt } from "./kept.ts";
import { CHECKERS, RS_ACTED, RS_KEPT } from "./keywords.ts";
import type { CheckerRule } from "./model.ts";
import {
  arity,
  type Ctx,
  intArg,
  ipArg,
  isUnicast,
  type Method,
  methodArgs,
  portArg,
  stmtPos,
  tokPos,
  wantsBlock,
} from "./values.ts";

export interface RsSpec {
  stmt: Stmt;
  addr: IpAddr;
  /** null when the header has no port. */
  port: number | null;
  weight: number | null;
  method: Method | null;
  uThreshold: number;
  lThreshold: number;
  proxyProtocol: "v1" | "v2" | null;
  checkers: CheckerRule[];
  kept: Stmt[];
}

export const MAX_WEIGHT = 2147483647;

/** keepalived's alias pairs count as one keyword for the duplicate check. */
export const CANONICAL: Readonly<Record<string, string>> = table({
  lb_kind: "lvs_method",
  lb_algo: "lvs_sched",
});

/** Reports a second statement of a single-valued keyword; true when `s` is the first. */
export function firstOf(ctx: Ctx, seen: Map<string, Stmt>, s: Stmt): boolean {
  const key = CANONICAL[s.keyword.text] ?? s.keyword.text;
  const prev = seen.get(key);
  if (prev) {
    const p = stmtPos(prev);
    ctx.diags.error(stmtPos(s), `duplicate '${s.keyword.text}' (already set at line ${p.line}:${p.col})`);
    return false;
  }
  seen.set(key, s);
  return true;
}

export function proxyProtocolArg(ctx: Ctx, s: Stmt): "v1" | "v2" | null {
  if (!arity(ctx, s, 1, 1, "v1 or v2")) return null;
  const v = s.args[0].text;
  if (v === "v1" || v === "v2") return v;
  ctx.diags.error(tokPos(s.file, s.args[0]), `invalid PROXY protocol version '${v}': expected v1 or v2`);
  return null;
}

function rsStmt(ctx: Ctx, rs: RsSpec, s: Stmt, seen: Map<string, Stmt>): void {
  const k = s.keyword.text;
  if (CHECKERS.has(k)) {
    const c = checkerRule(ctx, s);
    if (c) rs.checkers.push(c);
    return;
  }
  if (RS_KEPT.has(k)) {
    rs.kept.push(keepStmt(ctx, s, "real_server"));
    return;
  }
  if (!RS_ACTED.has(k)) {
    unknownStmt(ctx, s, "real_server", [...RS_ACTED, ...RS_KEPT, ...CHECKERS]);
    return;
  }
  if (!wantsBlock(ctx, s, false) || !firstOf(ctx, seen, s)) return;
  if (k === "lvs_method" || k === "lb_kind") rs.method = methodArgs(ctx, s);
  else if (k === "proxy_protocol") rs.proxyProtocol = proxyProtocolArg(ctx, s);
  else if (arity(ctx, s, 1, 1, "one integer")) {
    const n = intArg(ctx, s, s.args[0], 0, MAX_WEIGHT, k);
    if (n === null) return;
    if (k === "weight") rs.weight = n;
    else if (k === "uthreshold") rs.uThreshold = n;
    else rs.lThreshold = n;
  }
}

/** Parse one real_server statement; null when its header is unusable (already reported). */
export function parseRealServer(ctx: Ctx, s: Stmt): RsSpec | null {
  if (!arity(ctx, s, 1, 2, "'ADDRESS [PORT]'") || !wantsBlock(ctx, s, true)) return null;
  const addr = ipArg(ctx, s, s.args[0], "real server address");
  if (addr && !isUnicast(addr)) {
    ctx.diags.error(tokPos(s.file, s.args[0]), `real server address '${addr.text}' is not a unicast address`);
    return null;
  }
  const port = s.args[1] ? portArg(ctx, s, s.args[1]) : null;
  if (!addr || (s.args[1] && port === null)) return null;
  const rs: RsSpec = {
    stmt: s,
    addr,
    port,
    weight: null,
    method: null,
    uThreshold: 0,
    lThreshold: 0,
    proxyProtocol: null,
    checkers: [],
    kept: [],
  };
  const seen = new Map<string, Stmt>();
  for (const inner of s.block?.body ?? []) rsStmt(ctx, rs, inner, seen);
  if (rs.lThreshold > rs.uThreshold) {
    const at = seen.get("lthreshold") ?? s;
    ctx.diags.error(stmtPos(at), `lthreshold ${rs.lThreshold} is above uthreshold ${rs.uThreshold}`);
  }
  return rs;
}
