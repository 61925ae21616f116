/**
 * keepalived-syntax statements (includes already expanded) → RulesConfig. Every problem is
 * reported; the result is only usable when no error was.
 */
import { serviceKey } from "../model/service.ts";
import { table } from "../util/table.ts";
import type { Stmt } from "./cst.ts";
import { type Group, parseGroup } from "./group.ts";
import { TOP_ACTED, TOP_KEPT, TOP_VRRP, unknownKeyword } from "./keywords.ts";
import type { Diagnostics, RulesConfig, ServiceRule } from "./model.ts";
import { serviceRules } from "./service-rules.ts";
import { arity, type Ctx, stmtPos, wantsBlock } from "./values.ts";
import { parseVirtualServer } from "./virtual-server.ts";

const PREPROCESSOR: Record<string, string> = table({
  $: "parameter definitions ($NAME=…)",
  "@": "config-id conditionals (@ID …)",
  "~": "sequence expansions (~SEQ, ~LST)",
});

function collectGroups(ctx: Ctx, stmts: readonly Stmt[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const s of stmts) {
    if (s.keyword.text !== "virtual_server_group") continue;
    if (!arity(ctx, s, 1, 1, "a group name") || !wantsBlock(ctx, s, true)) continue;
    const prev = groups.get(s.args[0].text);
    if (prev) {
      const p = stmtPos(prev.stmt);
      ctx.diags.error(
        stmtPos(s),
        `duplicate virtual_server_group '${s.args[0].text}' (already at line ${p.line}:${p.col})`,
      );
      continue;
    }
    groups.set(s.args[0].text, parseGroup(ctx, s, s.args[0]));
  }
  return groups;
}

function topLevel(
  ctx: Ctx,
  s: Stmt,
  groups: Map<string, Group>,
  out: { services: ServiceRule[]; blocks: Stmt[] },
): void {
  const k = s.keyword.text;
  const pre = PREPROCESSOR[k[0]];
  if (pre) ctx.diags.error(stmtPos(s), `uvs does not support keepalived's preprocessor ${pre}`);
  else if (k === "virtual_server") {
    const vs = parseVirtualServer(ctx, s);
    if (vs) out.services.push(...serviceRules(ctx, vs, groups));
  } else if (k === "virtual_server_group") {
    // collected beforehand
  } else if (TOP_KEPT.has(k)) {
    const what = s.block ? `block '${k}'` : `'${k}'`;
    if (!TOP_VRRP.has(k)) ctx.diags.warn(stmtPos(s), `${what} is kept but uvs does not act on it yet`);
    out.blocks.push(s);
  } else if (TOP_ACTED.has(k)) {
    ctx.diags.error(stmtPos(s), `'${k}' was not expanded (includes are read by loadRules)`);
  } else ctx.diags.error(stmtPos(s), unknownKeyword(k, "the top level", [...TOP_ACTED, ...TOP_KEPT]));
}

/** Two rules for one service: the second is an error naming the first. */
function checkDuplicates(ctx: Ctx, services: ServiceRule[]): ServiceRule[] {
  const seen = new Map<string, ServiceRule>();
  return services.filter((r) => {
    const key = serviceKey(r.id);
    const prev = seen.get(key);
    if (prev) {
      ctx.diags.error(
        r.pos,
        `duplicate virtual service ${key} (already at ${prev.pos.file}:${prev.pos.line}:${prev.pos.col})`,
      );
      return false;
    }
    seen.set(key, r);
    return true;
  });
}

/** Analyse expanded top-level statements of `file` (and the files it included). */
export function analyzeKeepalived(
  stmts: readonly Stmt[],
  file: string,
  files: string[],
  diags: Diagnostics,
): RulesConfig {
  const ctx: Ctx = { diags };
  const groups = collectGroups(ctx, stmts);
  const out = { services: [] as ServiceRule[], blocks: [] as Stmt[] };
  for (const s of stmts) topLevel(ctx, s, groups, out);
  for (const g of groups.values()) {
    if (!g.used)
      ctx.diags.warn(stmtPos(g.stmt), `virtual_server_group '${g.name}' is not used by any virtual_server`);
  }
  return {
    dialect: "keepalived",
    file,
    files,
    services: checkDuplicates(ctx, out.services),
    blocks: out.blocks,
  };
}
