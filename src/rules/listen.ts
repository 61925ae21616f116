/**
 * `proxy_listen ADDRESS PORTS [tcp|udp]…` (uvs's own keyword): where the userspace proxy listens
 * for a firewall-mark or port-0 (all ports) service — the job iptables mangle rules do for a
 * kernel director. PORTS is a comma list of ports and ranges: `80`, `80,443`, `8000-8099`.
 */
import type { IpAddr } from "../model/addr.ts";
import type { Stmt, Token } from "./cst.ts";
import type { ListenEndpoint } from "./model.ts";
import { arity, type Ctx, ipArg, tokPos } from "./values.ts";

export interface ListenSpec {
  stmt: Stmt;
  addr: IpAddr;
  ports: number[];
  /** null: the service's protocol (tcp for fwmark services). */
  protocols: ("tcp" | "udp")[] | null;
}

function parsePorts(ctx: Ctx, s: Stmt, t: Token): number[] | null {
  const out: number[] = [];
  for (const part of t.text.split(",")) {
    const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(part);
    const lo = m ? Number(m[1]) : -1;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    if (!m || lo < 1 || hi > 65535 || hi < lo) {
      ctx.diags.error(
        tokPos(s.file, t),
        `invalid port list '${t.text}': expected ports 1..65535 and ranges like 8000-8099`,
      );
      return null;
    }
    for (let p = lo; p <= hi; p++) out.push(p);
  }
  return [...new Set(out)];
}

export function parseListen(ctx: Ctx, s: Stmt): ListenSpec | null {
  if (!arity(ctx, s, 2, 4, "'ADDRESS PORTS [tcp|udp]…'")) return null;
  const addr = ipArg(ctx, s, s.args[0], "listen address");
  const ports = parsePorts(ctx, s, s.args[1]);
  let protocols: ("tcp" | "udp")[] | null = null;
  for (const t of s.args.slice(2)) {
    if (t.text !== "tcp" && t.text !== "udp") {
      ctx.diags.error(tokPos(s.file, t), `invalid listen protocol '${t.text}': expected tcp or udp`);
      return null;
    }
    protocols = [...new Set([...(protocols ?? []), t.text as "tcp" | "udp"])];
  }
  return addr && ports ? { stmt: s, addr, ports, protocols } : null;
}

/** Endpoints of the specs that apply (all of them, or those on `onlyAddr`). */
export function listenEndpoints(
  specs: readonly ListenSpec[],
  defaultProto: "tcp" | "udp",
  onlyAddr: IpAddr | null,
): ListenEndpoint[] {
  const out: ListenEndpoint[] = [];
  for (const l of specs) {
    if (onlyAddr && (l.addr.af !== onlyAddr.af || l.addr.text !== onlyAddr.text)) continue;
    for (const protocol of l.protocols ?? [defaultProto])
      for (const port of l.ports) out.push({ addr: l.addr, port, protocol });
  }
  return out;
}
