/**
 * `virtual_ipaddress { ADDR[/len] [brd X] [dev IF] [scope S] [label L] [no_track] … }` entries
 * (spec keepalived.md §3.1). A missing /len means a host address.
 */
import { type IpAddr, parseIp } from "../model/addr.ts";
import type { Stmt } from "../rules/cst.ts";
import type { Pos } from "../rules/model.ts";
import { stmtPos, tokPos } from "../rules/values.ts";
import { blockOf, type VCtx } from "./vrrp-config-values.ts";

export interface VipConfig {
  addr: IpAddr;
  prefix: number;
  dev: string | null;
  brd: string | null;
  scope: string | null;
  label: string | null;
  noTrack: boolean;
  pos: Pos;
}

const VALUED = new Set(["brd", "broadcast", "dev", "scope", "label"]);
const BARE = new Set(["no_track", "use_vmac", "home", "nodad", "noprefixroute", "autojoin", "track"]);

function vipEntry(ctx: VCtx, s: Stmt): VipConfig | null {
  const [addrText, lenText] = s.keyword.text.split("/", 2);
  const addr = parseIp(addrText);
  if (!addr) {
    ctx.diags.error(stmtPos(s), `invalid virtual address '${s.keyword.text}'`);
    return null;
  }
  const max = addr.af === "inet" ? 32 : 128;
  const prefix = lenText === undefined ? max : /^[0-9]{1,3}$/.test(lenText) ? Number(lenText) : -1;
  if (prefix < 0 || prefix > max) {
    ctx.diags.error(stmtPos(s), `invalid prefix length in '${s.keyword.text}': expected 0..${max}`);
    return null;
  }
  const vip: VipConfig = {
    addr,
    prefix,
    dev: null,
    brd: null,
    scope: null,
    label: null,
    noTrack: false,
    pos: stmtPos(s),
  };
  for (let i = 0; i < s.args.length; i++) {
    const k = s.args[i].text;
    if (VALUED.has(k) && s.args[i + 1]) {
      const v = s.args[++i].text;
      if (k === "dev") vip.dev = v;
      else if (k === "scope") vip.scope = v;
      else if (k === "label") vip.label = v;
      else vip.brd = v;
    } else if (BARE.has(k)) vip.noTrack ||= k === "no_track";
    else {
      ctx.diags.error(tokPos(s.file, s.args[i]), `unexpected '${k}' in a virtual address`);
      return null;
    }
  }
  return vip;
}

/** The entries of a virtual_ipaddress / virtual_ipaddress_excluded block. */
export function vipBlock(ctx: VCtx, s: Stmt): VipConfig[] {
  const out: VipConfig[] = [];
  for (const e of blockOf(ctx, s) ?? []) {
    const v = vipEntry(ctx, e);
    if (v) out.push(v);
  }
  return out;
}
