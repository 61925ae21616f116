/**
 * Argument readers for the VRRP keywords (keepalived's spellings, spec keepalived.md §1.1, §3.1).
 * Each returns the value, or null after reporting an error at the offending token.
 */
import { type IpAddr, parseIp } from "../model/addr.ts";
import type { Stmt, Token } from "../rules/cst.ts";
import type { Diagnostics } from "../rules/model.ts";
import { stmtPos, tokPos } from "../rules/values.ts";
import { table } from "../util/table.ts";

export interface VCtx {
  diags: Diagnostics;
}

/** Exactly one argument, else an error naming the keyword. */
export function oneArg(ctx: VCtx, s: Stmt, what: string): Token | null {
  if (s.args.length === 1) return s.args[0];
  const at = s.args.length > 1 ? tokPos(s.file, s.args[1]) : stmtPos(s);
  ctx.diags.error(at, `'${s.keyword.text}' expects ${what}`);
  return null;
}

export function intTok(ctx: VCtx, s: Stmt, t: Token, min: number, max: number): number | null {
  if (/^-?[0-9]{1,10}$/.test(t.text)) {
    const n = Number(t.text);
    if (n >= min && n <= max) return n;
  }
  ctx.diags.error(
    tokPos(s.file, t),
    `invalid ${s.keyword.text} '${t.text}': expected an integer ${min}..${max}`,
  );
  return null;
}

export function intStmt(ctx: VCtx, s: Stmt, min: number, max: number): number | null {
  const t = oneArg(ctx, s, `an integer ${min}..${max}`);
  return t && intTok(ctx, s, t, min, max);
}

/** Decimal seconds (keepalived timers have microsecond resolution) → milliseconds. */
export function secondsStmt(ctx: VCtx, s: Stmt, min: number, max: number): number | null {
  const t = oneArg(ctx, s, "a number of seconds");
  if (!t) return null;
  if (/^[0-9]{1,7}(\.[0-9]{1,6})?$/.test(t.text)) {
    const v = Number(t.text);
    if (v >= min && v <= max) return Math.round(v * 1e6) / 1e3;
  }
  ctx.diags.error(
    tokPos(s.file, t),
    `invalid ${s.keyword.text} '${t.text}': expected seconds ${min}..${max}`,
  );
  return null;
}

const BOOLS: Record<string, boolean> = table({
  on: true,
  true: true,
  yes: true,
  off: false,
  false: false,
  no: false,
});

/** A bare flag, or a flag with an optional BOOL (`on|off|true|false|yes|no`). */
export function flagStmt(ctx: VCtx, s: Stmt): boolean | null {
  if (s.args.length === 0) return true;
  const t = oneArg(ctx, s, "no argument or on|off|true|false|yes|no");
  if (!t) return null;
  const v = BOOLS[t.text.toLowerCase()];
  if (v === undefined)
    ctx.diags.error(tokPos(s.file, t), `invalid boolean '${t.text}' for '${s.keyword.text}'`);
  return v ?? null;
}

export function ipTok(ctx: VCtx, s: Stmt, t: Token): IpAddr | null {
  const a = parseIp(t.text);
  if (!a) ctx.diags.error(tokPos(s.file, t), `invalid address '${t.text}' in '${s.keyword.text}'`);
  return a;
}

export function ipStmt(ctx: VCtx, s: Stmt): IpAddr | null {
  const t = oneArg(ctx, s, "an IP address");
  return t && ipTok(ctx, s, t);
}

/** The whole command line of a script keyword (`notify_master "/x.sh arg"` or unquoted words). */
export function commandStmt(ctx: VCtx, s: Stmt): string | null {
  if (s.args.length === 0) {
    ctx.diags.error(stmtPos(s), `'${s.keyword.text}' expects a command`);
    return null;
  }
  return s.args.map((a) => a.text).join(" ");
}

/** A statement that must (or must not) open a block. */
export function blockOf(ctx: VCtx, s: Stmt): Stmt[] | null {
  if (s.block) return s.block.body;
  ctx.diags.error(stmtPos(s), `'${s.keyword.text}' needs a '{ … }' block`);
  return null;
}

export function noBlock(ctx: VCtx, s: Stmt): boolean {
  if (!s.block) return true;
  ctx.diags.error(tokPos(s.file, s.block.open), `'${s.keyword.text}' takes no block`);
  return false;
}

/** `weight W [reverse|no_reverse]` after a tracked name, W in −253..253 (spec §3.1). */
export function weightArgs(
  ctx: VCtx,
  s: Stmt,
  rest: Token[],
): { weight: number | null; reverse: boolean } | null {
  if (rest.length === 0) return { weight: null, reverse: false };
  if (rest[0].text !== "weight" || !rest[1]) {
    ctx.diags.error(tokPos(s.file, rest[0]), `expected 'weight W [reverse]' after '${s.keyword.text}'`);
    return null;
  }
  const weight = intTok(ctx, s, rest[1], -253, 253);
  const tail = rest[2]?.text;
  if (rest.length > 3 || (tail !== undefined && tail !== "reverse" && tail !== "no_reverse")) {
    ctx.diags.error(tokPos(s.file, rest[2]), `unexpected '${rest[2].text}' after the weight`);
    return null;
  }
  return weight === null ? null : { weight, reverse: tail === "reverse" };
}
