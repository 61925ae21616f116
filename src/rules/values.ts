/**
 * Argument checks shared by the keepalived analysers: each returns the value, or null after
 * reporting an error at the offending token.
 */
import { type IpAddr, parseIp } from "../model/addr.ts";
import type { ForwardMethod, TunnelCsum, TunnelType } from "../model/dest.ts";
import { table } from "../util/table.ts";
import type { Stmt, Token } from "./cst.ts";
import { type Diagnostics, type Pos, posOf } from "./model.ts";

export interface Ctx {
  diags: Diagnostics;
}

export function tokPos(file: string, t: Token): Pos {
  return posOf(file, t.line, t.col);
}

export function stmtPos(s: Stmt): Pos {
  return tokPos(s.file, s.keyword);
}

/** The argument count is within [min, max], else an error naming the expected form. */
export function arity(ctx: Ctx, s: Stmt, min: number, max: number, usage: string): boolean {
  const n = s.args.length;
  if (n >= min && n <= max) return true;
  const at = n > max ? tokPos(s.file, s.args[max]) : stmtPos(s);
  ctx.diags.error(at, `'${s.keyword.text}' expects ${usage}`);
  return false;
}

/** A block keyword must open a block; a plain keyword must not. */
export function wantsBlock(ctx: Ctx, s: Stmt, block: boolean): boolean {
  if (block && !s.block) {
    ctx.diags.error(stmtPos(s), `'${s.keyword.text}' needs a '{ … }' block`);
    return false;
  }
  if (!block && s.block) {
    ctx.diags.error(tokPos(s.file, s.block.open), `'${s.keyword.text}' takes no block`);
    return false;
  }
  return true;
}

/** A decimal integer in [min, max]. */
export function intArg(ctx: Ctx, s: Stmt, t: Token, min: number, max: number, what: string): number | null {
  if (/^[0-9]{1,10}$/.test(t.text)) {
    const n = Number(t.text);
    if (n >= min && n <= max) return n;
  }
  ctx.diags.error(tokPos(s.file, t), `invalid ${what} '${t.text}': expected an integer ${min}..${max}`);
  return null;
}

export function ipArg(ctx: Ctx, s: Stmt, t: Token, what: string): IpAddr | null {
  const a = parseIp(t.text);
  if (!a) ctx.diags.error(tokPos(s.file, t), `invalid ${what} '${t.text}': expected an IPv4 or IPv6 address`);
  return a;
}

export function portArg(ctx: Ctx, s: Stmt, t: Token): number | null {
  return intArg(ctx, s, t, 0, 65535, "port");
}

export interface Method {
  forward: ForwardMethod;
  tunnelType: TunnelType;
  tunnelPort: number;
  tunnelCsum: TunnelCsum;
}

const METHODS: Record<string, ForwardMethod> = table({ NAT: "masq", DR: "route", TUN: "tunnel" });
const CSUMS = new Set(["nocsum", "csum", "remcsum"]);

/** `NAT` | `DR` | `TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]` (upper case, as keepalived). */
export function methodArgs(ctx: Ctx, s: Stmt): Method | null {
  const [m, ...rest] = s.args;
  if (!m) {
    ctx.diags.error(stmtPos(s), `'${s.keyword.text}' expects NAT, DR or TUN`);
    return null;
  }
  const forward = METHODS[m.text];
  if (!forward) {
    const hint = METHODS[m.text.toUpperCase()] ? " (methods are upper case)" : "";
    ctx.diags.error(
      tokPos(s.file, m),
      `invalid forwarding method '${m.text}': expected NAT, DR or TUN${hint}`,
    );
    return null;
  }
  const out: Method = { forward, tunnelType: "ipip", tunnelPort: 0, tunnelCsum: "nocsum" };
  if (forward !== "tunnel") {
    if (rest.length) ctx.diags.error(tokPos(s.file, rest[0]), `unexpected '${rest[0].text}' after ${m.text}`);
    return rest.length ? null : out;
  }
  return tunnelArgs(ctx, s, rest, out);
}

function tunnelArgs(ctx: Ctx, s: Stmt, rest: Token[], out: Method): Method | null {
  let i = 0;
  let ok = true;
  const bad = (t: Token, msg: string) => {
    ctx.diags.error(tokPos(s.file, t), msg);
    ok = false;
  };
  if (rest[i]?.text === "type") {
    const t = rest[i + 1];
    if (!t || !["ipip", "gue", "gre"].includes(t.text))
      bad(t ?? rest[i], "tunnel type must be ipip, gue or gre");
    else out.tunnelType = t.text as TunnelType;
    i += 2;
    if (out.tunnelType === "gue") {
      if (rest[i]?.text !== "port" || !rest[i + 1])
        bad(rest[i] ?? rest[i - 1], "a gue tunnel needs 'port N'");
      else out.tunnelPort = intArg(ctx, s, rest[i + 1], 1, 65535, "tunnel port") ?? 0;
      i += 2;
    }
  }
  if (rest[i] && CSUMS.has(rest[i].text)) {
    if (out.tunnelType === "ipip") bad(rest[i], "checksum options need a gue or gre tunnel");
    if (out.tunnelType === "gre" && rest[i].text === "remcsum")
      bad(rest[i], "remcsum is only for gue tunnels");
    out.tunnelCsum = rest[i].text as TunnelCsum;
    i++;
  }
  if (rest[i]) bad(rest[i], `unexpected '${rest[i].text}' in the TUN method`);
  return ok ? out : null;
}

/** The method as keepalived's config spells it (write-back). */
export function methodText(m: Method): string {
  if (m.forward === "masq" || m.forward === "local") return m.forward === "masq" ? "NAT" : "DR";
  if (m.forward === "route") return "DR";
  let t = "TUN";
  if (m.tunnelType === "ipip") return t;
  t += ` type ${m.tunnelType}`;
  if (m.tunnelType === "gue") t += ` port ${m.tunnelPort}`;
  if (m.tunnelCsum !== "nocsum") t += ` ${m.tunnelCsum}`;
  return t;
}

/** The kernel takes only unicast real servers (not 0.0.0.0/8, broadcast, multicast or ::). */
export function isUnicast(a: IpAddr): boolean {
  if (a.af === "inet") {
    const w = a.words[0];
    return w >>> 24 !== 0 && w !== 0xffffffff && w >>> 28 !== 0xe;
  }
  const [w0, w1, w2, w3] = a.words;
  return (w0 | w1 | w2 | w3) !== 0 && w0 >>> 24 !== 0xff;
}
