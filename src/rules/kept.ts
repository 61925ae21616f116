/**
 * Statements the rules model keeps for other parts of uvs. Those nothing acts on yet get a warning
 * naming them; the health-check keywords and checker types the health runner (src/health) acts on
 * do not. Checker blocks are checked against their keyword lists, so a typo inside TCP_CHECK is
 * still an error.
 */
import type { Stmt } from "./cst.ts";
import {
  CHECKER_KEYWORDS,
  HEALTH_KEYWORDS,
  legacyIgnored,
  RUN_CHECKERS,
  URL_KEYWORDS,
  unknownKeyword,
} from "./keywords.ts";
import type { CheckerRule } from "./model.ts";
import { type Ctx, stmtPos, tokPos, wantsBlock } from "./values.ts";

export function keepStmt(ctx: Ctx, s: Stmt, where: string): Stmt {
  if (HEALTH_KEYWORDS.has(s.keyword.text)) return s;
  const what = s.block ? `block '${s.keyword.text}'` : `'${s.keyword.text}'`;
  ctx.diags.warn(stmtPos(s), `${what} in ${where} is kept but uvs does not act on it yet`);
  return s;
}

function checkUrl(ctx: Ctx, url: Stmt): void {
  if (!wantsBlock(ctx, url, true)) return;
  for (const s of url.block?.body ?? []) {
    if (!URL_KEYWORDS.has(s.keyword.text)) unknownStmt(ctx, s, "url", URL_KEYWORDS);
  }
  if (!url.block?.body.some((s) => s.keyword.text === "path"))
    ctx.diags.error(stmtPos(url), "a url block needs 'path'");
}

/**
 * A keyword block `where` does not know: an error with its "did you mean", unless it is one of
 * keepalived 1's leftovers that keepalived 2 ignores (keywords.ts), which is a warning.
 */
export function unknownStmt(ctx: Ctx, s: Stmt, where: string, known: Iterable<string>): void {
  const legacy = legacyIgnored(where, s.keyword.text);
  if (legacy) ctx.diags.warn(stmtPos(s), legacy);
  else ctx.diags.error(stmtPos(s), unknownKeyword(s.keyword.text, where, known));
}

/** A checker block: its keywords are checked, its content kept as written. */
export function checkerRule(ctx: Ctx, s: Stmt): CheckerRule | null {
  const type = s.keyword.text;
  if (!wantsBlock(ctx, s, true)) return null;
  if (s.args.length) ctx.diags.error(tokPos(s.file, s.args[0]), `'${type}' takes no arguments`);
  const known = CHECKER_KEYWORDS[type];
  for (const inner of s.block?.body ?? []) {
    const k = inner.keyword.text;
    if (!known.has(k)) unknownStmt(ctx, inner, type, known);
    else if (k === "url") checkUrl(ctx, inner);
  }
  if ((type === "HTTP_GET" || type === "SSL_GET") && !s.block?.body.some((x) => x.keyword.text === "url"))
    ctx.diags.error(stmtPos(s), `'${type}' needs at least one 'url { path … }' block`);
  if (!RUN_CHECKERS.has(type))
    ctx.diags.warn(stmtPos(s), `health checker '${type}' is kept but uvs does not run it`);
  return { type, pos: stmtPos(s), stmt: s };
}
