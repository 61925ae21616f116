/**
 * A parsed virtual_server block → one ServiceRule per service it stands for (one, or one per
 * group member), applying keepalived's defaults (§1.6): wlc, NAT, UDP (each with a warning),
 * bare persistence_timeout = 360, real server ports (DR/TUN take the service port, NAT without a
 * port takes it too, fwmark non-NAT ports are cleared) and weight = VS `weight` or 1.
 */
import { type Family, formatAddrPort, type IpAddr } from "../model/addr.ts";
import type { DestConfig } from "../model/dest.ts";
import {
  type Protocol,
  SCHED_FLAGS,
  type ServiceConfig,
  type ServiceId,
  SVC_F_ONEPACKET,
  SVC_F_PERSISTENT,
} from "../model/service.ts";
import { findStmts, type Stmt } from "./cst.ts";
import type { Group, GroupMember } from "./group.ts";
import { listenEndpoints } from "./listen.ts";
import type { DestRule, ListenEndpoint, ServiceRule } from "./model.ts";
import type { RsSpec } from "./real-server.ts";
import { type Ctx, type Method, stmtPos, tokPos } from "./values.ts";
import { DEFAULT_PERSISTENCE, type VsSpec } from "./virtual-server.ts";

/** A service the block stands for; `entry`/`group` set for group members. */
type Member =
  | { kind: "addr"; addr: IpAddr; port: number; entry: Stmt | null }
  | { kind: "fwmark"; fwmark: number; af: Family | null; entry: Stmt | null };

interface Resolved {
  scheduler: string;
  method: Method;
  protocol: Protocol;
  /** ONEPACKET and SCHED* bits. */
  flags: number;
}

const FLAG_KEYWORDS = SCHED_FLAGS;

const NAT: Method = { forward: "masq", tunnelType: "ipip", tunnelPort: 0, tunnelCsum: "nocsum" };

function resolveFlags(
  ctx: Ctx,
  vs: VsSpec,
  scheduler: string,
  protocol: Protocol,
  members: Member[],
): number {
  let flags = 0;
  for (const s of vs.flagStmts) {
    const k = s.keyword.text;
    if (k === "hashed") {
      ctx.diags.warn(stmtPos(s), "'hashed' has no effect: the kernel ignores that flag from userspace");
    } else if (k === "ops") {
      if (protocol !== "udp" && members.some((m) => m.kind === "addr"))
        ctx.diags.error(stmtPos(s), "'ops' (one-packet scheduling) is only for UDP virtual services");
      flags |= SVC_F_ONEPACKET;
    } else {
      const f = FLAG_KEYWORDS[k];
      if (f.needs && f.needs !== scheduler)
        ctx.diags.error(stmtPos(s), `'${k}' needs lvs_sched ${f.needs} (this service uses ${scheduler})`);
      flags |= f.bit;
    }
  }
  return flags;
}

function resolve(ctx: Ctx, vs: VsSpec, members: Member[]): Resolved {
  const at = stmtPos(vs.stmt);
  // A default is worth a warning only where the file says nothing: a wrong value has its error.
  const absent = (...keywords: string[]) => findStmts(vs.stmt.block?.body ?? [], ...keywords).length === 0;
  if (!vs.scheduler && absent("lvs_sched", "lb_algo"))
    ctx.diags.warn(at, "no lvs_sched (lb_algo): using wlc, as keepalived does");
  if (!vs.method && absent("lvs_method", "lb_kind"))
    ctx.diags.warn(at, "no lvs_method (lb_kind): using NAT, as keepalived does");
  const hasAddr = members.some((m) => m.kind === "addr");
  if (!vs.protocol && hasAddr && absent("protocol"))
    ctx.diags.warn(at, "no protocol: defaulting to UDP, as keepalived does");
  const scheduler = vs.scheduler ?? "wlc";
  const protocol = vs.protocol ?? "udp";
  return {
    scheduler,
    method: vs.method ?? NAT,
    protocol,
    flags: resolveFlags(ctx, vs, scheduler, protocol, members),
  };
}

function serviceId(vs: VsSpec, r: Resolved, m: Member): ServiceId {
  if (m.kind === "addr")
    return { kind: "addr", af: m.addr.af, protocol: r.protocol, addr: m.addr, port: m.port };
  const af = vs.ipFamily ?? m.af ?? vs.rs[0]?.addr.af ?? "inet";
  return { kind: "fwmark", af, fwmark: m.fwmark };
}

function serviceConfig(ctx: Ctx, vs: VsSpec, r: Resolved, id: ServiceId): ServiceConfig {
  let timeout = vs.timeout ?? (vs.granularity ? DEFAULT_PERSISTENCE : 0);
  if (id.kind === "addr" && id.port === 0 && !timeout) {
    ctx.diags.warn(
      stmtPos(vs.stmt),
      "a port-0 (all ports) service must be persistent: persistence_timeout 360, as keepalived does",
    );
    timeout = DEFAULT_PERSISTENCE;
  }
  const g = vs.granularity;
  let netmask = id.af === "inet" ? 0xffffffff : 128;
  if (g && id.af === "inet") {
    if (g.v4 === null)
      ctx.diags.error(stmtPos(g.stmt), "an IPv4 service needs a dotted netmask as persistence_granularity");
    else netmask = g.v4;
  } else if (g) {
    if (g.v6 === null)
      ctx.diags.error(stmtPos(g.stmt), "an IPv6 service needs a prefix length as persistence_granularity");
    else netmask = g.v6;
  }
  return {
    scheduler: r.scheduler,
    flags: r.flags | (timeout ? SVC_F_PERSISTENT : 0),
    timeout,
    netmask,
    peName: vs.peName,
  };
}

/** The real server's port after keepalived's rules; a port that changes is reported. */
function destPort(ctx: Ctx, rs: RsSpec, id: ServiceId, m: Method): number {
  if (m.forward === "masq") return rs.port ?? (id.kind === "addr" ? id.port : 0);
  const forced = id.kind === "addr" ? id.port : 0;
  if (rs.port !== null && rs.port !== forced) {
    const why = id.kind === "addr" ? `the service port ${forced}` : "0 (fwmark service)";
    ctx.diags.warn(
      tokPos(rs.stmt.file, rs.stmt.args[1]),
      `a ${m.forward === "route" ? "DR" : "TUN"} real server cannot change the port: using ${why}`,
    );
  }
  return forced;
}

function destRule(ctx: Ctx, vs: VsSpec, r: Resolved, rs: RsSpec, id: ServiceId): DestRule | null {
  const m = rs.method ?? r.method;
  if (rs.addr.af !== id.af && m.forward !== "tunnel") {
    ctx.diags.error(
      tokPos(rs.stmt.file, rs.stmt.args[0]),
      "a real server of another address family needs lvs_method TUN",
    );
    return null;
  }
  const config: DestConfig = {
    af: rs.addr.af,
    addr: rs.addr,
    port: destPort(ctx, rs, id, m),
    forward: m.forward,
    weight: rs.weight ?? vs.weight ?? 1,
    uThreshold: rs.uThreshold,
    lThreshold: rs.lThreshold,
    tunnelType: m.tunnelType,
    tunnelPort: m.tunnelPort,
    tunnelCsum: m.tunnelCsum,
  };
  return {
    config,
    proxyProtocol: rs.proxyProtocol ?? vs.proxyProtocol,
    pos: stmtPos(rs.stmt),
    checkers: rs.checkers,
    kept: rs.kept,
    src: { dialect: "keepalived", stmt: rs.stmt, group: null },
  };
}

function dests(ctx: Ctx, vs: VsSpec, r: Resolved, id: ServiceId): DestRule[] {
  const out: DestRule[] = [];
  const seen = new Map<string, DestRule>();
  for (const rs of vs.rs) {
    const d = destRule(ctx, vs, r, rs, id);
    if (!d) continue;
    const key = formatAddrPort(d.config.addr, d.config.port);
    const prev = seen.get(key);
    if (prev) {
      ctx.diags.error(
        d.pos,
        `duplicate real server ${key} (already at line ${prev.pos.line}:${prev.pos.col})`,
      );
      continue;
    }
    seen.set(key, d);
    out.push(d);
  }
  return out;
}

function listen(ctx: Ctx, vs: VsSpec, id: ServiceId): ListenEndpoint[] {
  const where = id.kind === "fwmark" ? `fwmark ${id.fwmark}` : `${formatAddrPort(id.addr, 0)} (all ports)`;
  if (id.kind === "addr" && id.port !== 0) {
    if (id.protocol !== "sctp") return [{ addr: id.addr, port: id.port, protocol: id.protocol }];
    ctx.diags.warn(
      stmtPos(vs.stmt),
      "the proxy plane does not carry SCTP: only the packet plane serves this service",
    );
    return [];
  }
  const proto = vs.protocol === "udp" ? "udp" : "tcp";
  const out = listenEndpoints(vs.listen, proto, id.kind === "addr" ? id.addr : null);
  if (out.length === 0)
    ctx.diags.warn(stmtPos(vs.stmt), `no proxy_listen for ${where}: the proxy plane will not listen for it`);
  return out;
}

function members(ctx: Ctx, vs: VsSpec, groups: Map<string, Group>): Member[] {
  const h = vs.header;
  if (h.kind === "addr") return [{ kind: "addr", addr: h.addr, port: h.port, entry: null }];
  if (h.kind === "fwmark") return [{ kind: "fwmark", fwmark: h.fwmark, af: null, entry: null }];
  const g = groups.get(h.name);
  if (!g) {
    ctx.diags.error(tokPos(vs.stmt.file, vs.stmt.args[1]), `no virtual_server_group named '${h.name}'`);
    return [];
  }
  g.used = true;
  return g.members.map((gm: GroupMember) => ({ ...gm }));
}

/** The services one virtual_server block stands for. */
export function serviceRules(ctx: Ctx, vs: VsSpec, groups: Map<string, Group>): ServiceRule[] {
  const ms = members(ctx, vs, groups);
  const r = resolve(ctx, vs, ms);
  if (vs.listen.length && !ms.some((m) => m.kind === "fwmark" || m.port === 0))
    ctx.diags.error(
      stmtPos(vs.listen[0].stmt),
      "proxy_listen is only for fwmark and port-0 services: this service listens on its own address",
    );
  if (vs.rs.length === 0)
    ctx.diags.warn(stmtPos(vs.stmt), "virtual_server has no real_server (keepalived would drop it)");
  const group = vs.header.kind === "group" ? groups.get(vs.header.name) : undefined;
  return ms.map((m) => {
    const id = serviceId(vs, r, m);
    return {
      id,
      config: serviceConfig(ctx, vs, r, id),
      dests: dests(ctx, vs, r, id),
      listen: listen(ctx, vs, id),
      pos: stmtPos(m.entry ?? vs.stmt),
      sorryServer: vs.sorryServer,
      quorum: vs.quorum,
      hysteresis: vs.hysteresis,
      kept: vs.kept,
      src: {
        dialect: "keepalived",
        stmt: vs.stmt,
        group: group && m.entry ? { name: group.name, entry: m.entry, groupStmt: group.stmt } : null,
      },
    };
  });
}
