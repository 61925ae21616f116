/**
 * virtual_server_group NAME { … } → its members (§1.5): `IP [PORT]`, `A.B.C.D-E [PORT]` (last
 * octet range), `IP-IP [PORT]` (full range), `PREFIX/LEN [PORT]` and `fwmark N [inet|inet6]`.
 * Each member becomes one service sharing the virtual_server block that names the group.
 */

import type { Family } from "../model/addr.ts";
import { type IpAddr, ipv4FromU32, ipv6FromWords, parseIp } from "../model/addr.ts";
import type { Stmt, Token } from "./cst.ts";
import { type Ctx, intArg, portArg, stmtPos, tokPos } from "./values.ts";

export type GroupMember =
  | { kind: "addr"; addr: IpAddr; port: number; entry: Stmt }
  | { kind: "fwmark"; fwmark: number; af: Family; entry: Stmt };

export interface Group {
  name: string;
  stmt: Stmt;
  members: GroupMember[];
  used: boolean;
}

/** Members of one group past this are refused: a typo in a range should not make 16M services. */
export const MAX_GROUP_MEMBERS = 4096;

function v4Range(first: number, last: number): IpAddr[] {
  const out: IpAddr[] = [];
  for (let v = first; v <= last && out.length <= MAX_GROUP_MEMBERS; v++) out.push(ipv4FromU32(v));
  return out;
}

/** Addresses of one entry's address text, or an error message. */
function entryAddrs(text: string): IpAddr[] | string {
  const slash = text.indexOf("/");
  if (slash >= 0) return prefixAddrs(text.slice(0, slash), text.slice(slash + 1));
  const dash = text.indexOf("-");
  if (dash < 0) {
    const a = parseIp(text);
    return a ? [a] : `invalid address '${text}'`;
  }
  const first = parseIp(text.slice(0, dash));
  if (first?.af !== "inet") return `invalid address range '${text}': ranges are IPv4 only`;
  const tail = text.slice(dash + 1);
  const full = parseIp(tail);
  const lastOctet = /^[0-9]{1,3}$/.test(tail) ? Number(tail) : null;
  let last: number;
  if (full && full.af === "inet") last = full.words[0];
  else if (lastOctet !== null && lastOctet <= 255) last = ((first.words[0] & 0xffffff00) | lastOctet) >>> 0;
  else return `invalid address range '${text}'`;
  if (last < first.words[0]) return `invalid address range '${text}': the end is below the start`;
  return v4Range(first.words[0], last);
}

function prefixAddrs(addrText: string, lenText: string): IpAddr[] | string {
  const a = parseIp(addrText);
  const bits = a?.af === "inet" ? 32 : 128;
  const len = /^[0-9]{1,3}$/.test(lenText) ? Number(lenText) : -1;
  if (!a || len < 0 || len > bits) return `invalid prefix '${addrText}/${lenText}'`;
  if (bits - len > 12) return `prefix '${addrText}/${lenText}' has more than ${MAX_GROUP_MEMBERS} addresses`;
  if (a.af === "inet") {
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    const base = (a.words[0] & mask) >>> 0;
    return v4Range(base, base + 2 ** (32 - len) - 1);
  }
  const out: IpAddr[] = [];
  const hostBits = 128 - len; // ≤ 12: only the last word changes
  const w3 = a.words[3] & ~((1 << hostBits) - 1);
  for (let i = 0; i < 2 ** hostBits; i++)
    out.push(ipv6FromWords([a.words[0], a.words[1], a.words[2], (w3 | i) >>> 0]));
  return out;
}

function fwmarkEntry(ctx: Ctx, e: Stmt): GroupMember[] {
  const [markTok, famTok, extra] = e.args;
  if (!markTok || extra) {
    ctx.diags.error(stmtPos(e), "a group entry 'fwmark' expects 'fwmark N [inet|inet6]'");
    return [];
  }
  const fwmark = intArg(ctx, e, markTok, 1, 0xffffffff, "fwmark");
  let af: Family = "inet";
  if (famTok) {
    if (famTok.text === "inet" || famTok.text === "inet6") af = famTok.text;
    else
      ctx.diags.error(
        tokPos(e.file, famTok),
        `invalid address family '${famTok.text}': expected inet or inet6`,
      );
  }
  return fwmark === null ? [] : [{ kind: "fwmark", fwmark, af, entry: e }];
}

function addrEntry(ctx: Ctx, e: Stmt): GroupMember[] {
  const [portTok, extra] = e.args;
  if (extra) {
    ctx.diags.error(tokPos(e.file, extra), `unexpected '${extra.text}': a group entry is 'ADDRESS [PORT]'`);
    return [];
  }
  const addrs = entryAddrs(e.keyword.text);
  if (typeof addrs === "string") {
    ctx.diags.error(stmtPos(e), addrs);
    return [];
  }
  const port = portTok ? portArg(ctx, e, portTok) : 0;
  if (port === null) return [];
  return addrs.map((addr) => ({ kind: "addr", addr, port, entry: e }));
}

/** Parse one virtual_server_group statement (its header was checked by the caller). */
export function parseGroup(ctx: Ctx, s: Stmt, name: Token): Group {
  const members: GroupMember[] = [];
  for (const e of s.block?.body ?? []) {
    if (e.block) ctx.diags.error(tokPos(e.file, e.block.open), "a group entry takes no block");
    members.push(...(e.keyword.text === "fwmark" ? fwmarkEntry(ctx, e) : addrEntry(ctx, e)));
  }
  if (members.length > MAX_GROUP_MEMBERS) {
    ctx.diags.error(stmtPos(s), `group '${name.text}' has more than ${MAX_GROUP_MEMBERS} members`);
    members.length = 0;
  }
  if (members.length === 0 && (s.block?.body.length ?? 0) === 0)
    ctx.diags.warn(stmtPos(s), `group '${name.text}' is empty: keepalived drops it`);
  return { name: name.text, stmt: s, members, used: false };
}
