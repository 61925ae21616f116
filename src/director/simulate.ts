/**
 * `uvs simulate`: scheduling decisions without traffic (../shared/specs/simulate.md). Each JSON
 * operation line runs against a director loaded from a snapshot, on a clock that only moves on
 * `advance`. The same code the data planes use picks every destination.
 */

import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from "../conntrack/states.ts";
import { formatAddrPort, type IpAddr, parseAddrPort, parseIp } from "../model/addr.ts";
import type { DestConfig, ForwardMethod } from "../model/dest.ts";
import { SCHED_FLAG_BITS, type Service, SVC_F_SCHED_MASK } from "../model/service.ts";
import type { OpResult } from "./api.ts";
import { closeConn, connect, expireEntry } from "./conn-ops.ts";
import type { Director } from "./director.ts";

type Json = Record<string, unknown>;

class OpError extends Error {}

export class Simulation {
  /** Entry slot and serial of every connection number (serial tells a reused slot apart). */
  private readonly conns: { slot: number; serial: number }[] = [];

  constructor(private readonly d: Director) {}

  /** Run one input line; returns the line to print, or null for ops that print nothing. */
  run(line: string, lineNo: number): string | null {
    if (line.trim() === "") return null;
    try {
      let op: unknown;
      try {
        op = JSON.parse(line);
      } catch {
        throw new OpError("not a JSON object");
      }
      if (typeof op !== "object" || op === null || Array.isArray(op)) throw new OpError("not a JSON object");
      return this.dispatch(op as Json);
    } catch (e) {
      if (e instanceof OpError) return JSON.stringify({ error: e.message, line: lineNo });
      return JSON.stringify({ error: `internal error: ${(e as Error).message}`, line: lineNo });
    }
  }

  private dispatch(op: Json): string | null {
    switch (op.op) {
      case "connect":
        return this.connect(op);
      case "close":
        closeConn(this.d, this.conn(op));
        return null;
      case "expire":
        expireEntry(this.d, this.conn(op));
        return null;
      case "advance":
        this.d.advance(this.d.now + num(op, "seconds", 0, 1e9, true) * 1000);
        return null;
      case "set_weight":
      case "edit_dest":
        return this.editDest(op);
      case "add_dest":
        return this.addDest(op);
      case "del_dest":
        return this.delDest(op);
      case "edit_service":
        return this.editService(op);
      default:
        throw new OpError(`unknown op ${JSON.stringify(op.op)}`);
    }
  }

  private service(op: Json): Service {
    const all = [...this.d.services.values()];
    if (op.service === undefined) {
      if (all.length === 1) return all[0];
      throw new OpError(
        all.length === 0 ? "the snapshot has no service" : 'several services: name one with "service"',
      );
    }
    const key = str(op, "service");
    const svc = this.d.services.get(normaliseServiceKey(key));
    if (!svc) throw new OpError(`no service ${JSON.stringify(key)}`);
    return svc;
  }

  private connect(op: Json): string {
    const svc = this.service(op);
    const client = addrPort(op, "client");
    if (client.addr.af !== svc.af) throw new OpError("client: address family differs from the service's");
    const proto = protoOf(op, svc);
    const to = op.to === undefined ? defaultTarget(svc) : addrPort(op, "to");
    const k = this.conns.length;
    const slot = connect(this.d, svc, {
      proto,
      caddr: client.addr,
      cport: client.port,
      vaddr: to.addr,
      vport: to.port,
    });
    if (slot < 0) {
      this.conns.push({ slot: -1, serial: 0 });
      return JSON.stringify({ conn: k, dest: null });
    }
    const t = this.d.conns;
    const live = t.isLive(slot);
    this.conns.push({ slot: live ? slot : -1, serial: live ? t.serialOf(slot) : 0 });
    return JSON.stringify({ conn: k, dest: formatAddrPort(t.daddr(slot), t.dport(slot)) });
  }

  private conn(op: Json): number {
    const k = num(op, "conn", 0, this.conns.length - 1);
    const c = this.conns[k];
    const t = this.d.conns;
    return c.slot >= 0 && t.isLive(c.slot) && t.serialOf(c.slot) === c.serial ? c.slot : -1;
  }

  private destOf(op: Json, svc: Service) {
    const dp = addrPort(op, "dest");
    const dest = svc.findDest(dp.addr, dp.port);
    if (!dest) throw new OpError(`dest: no real server ${JSON.stringify(op.dest)} in the service`);
    return dest;
  }

  private editDest(op: Json): string | null {
    const svc = this.service(op);
    const dest = this.destOf(op, svc);
    const cfg: DestConfig = { ...dest, weight: num(op, "weight", 0, 0x7fffffff) };
    if (op.op === "edit_dest") {
      cfg.uThreshold = num(op, "u_threshold", 0, 0x7fffffff);
      cfg.lThreshold = num(op, "l_threshold", 0, 0x7fffffff);
    }
    return result(this.d.apply({ op: "edit-server", service: svc.id, dest: cfg }));
  }

  private addDest(op: Json): string | null {
    const svc = this.service(op);
    const addr = parseIp(str(op, "address"));
    if (!addr) throw new OpError("address: not an IP address");
    const forward = (op.forward ?? "masq") as ForwardMethod;
    if (!["masq", "route", "tunnel", "local"].includes(forward))
      throw new OpError("forward: expected masq, route or tunnel");
    const cfg: DestConfig = {
      af: addr.af,
      addr,
      port: num(op, "port", 0, 65535),
      forward,
      weight: num(op, "weight", 0, 0x7fffffff),
      uThreshold: op.u_threshold === undefined ? 0 : num(op, "u_threshold", 0, 0x7fffffff),
      lThreshold: op.l_threshold === undefined ? 0 : num(op, "l_threshold", 0, 0x7fffffff),
      tunnelType: "ipip",
      tunnelPort: 0,
      tunnelCsum: "nocsum",
    };
    return result(this.d.apply({ op: "add-server", service: svc.id, dest: cfg }));
  }

  private delDest(op: Json): string | null {
    const svc = this.service(op);
    const dest = this.destOf(op, svc);
    return result(this.d.apply({ op: "delete-server", service: svc.id, addr: dest.addr, port: dest.port }));
  }

  private editService(op: Json): string | null {
    const svc = this.service(op);
    const scheduler = op.scheduler === undefined ? svc.scheduler : str(op, "scheduler");
    let flags = svc.flags & ~SVC_F_SCHED_MASK;
    if (op.sched_flags !== undefined) {
      if (!Array.isArray(op.sched_flags)) throw new OpError("sched_flags: expected an array of flag names");
      for (const f of op.sched_flags) {
        const bit = typeof f === "string" ? SCHED_FLAG_BITS[f] : undefined;
        if (bit === undefined) throw new OpError(`sched_flags: unknown flag ${JSON.stringify(f)}`);
        flags |= bit;
      }
    } else {
      flags |= svc.flags & SVC_F_SCHED_MASK;
    }
    const cfg = { scheduler, flags, timeout: svc.timeout, netmask: svc.netmask, peName: svc.peName };
    return result(this.d.apply({ op: "edit-service", service: svc.id, config: cfg }));
  }
}

/** Table edits print nothing on success; a refusal is reported like a malformed line would be. */
function result(r: OpResult): string | null {
  if (r.ok) return null;
  throw new OpError(`refused: ${r.errno}`);
}

function str(op: Json, key: string): string {
  const v = op[key];
  if (typeof v !== "string") throw new OpError(`${key}: expected a string`);
  return v;
}

function num(op: Json, key: string, min: number, max: number, fractional = false): number {
  const v = op[key];
  if (typeof v !== "number" || !Number.isFinite(v) || (!fractional && !Number.isInteger(v)))
    throw new OpError(`${key}: expected ${fractional ? "a number" : "an integer"}`);
  if (v < min || v > max) throw new OpError(`${key}: ${v} is out of range ${min}..${max}`);
  return v;
}

function addrPort(op: Json, key: string): { addr: IpAddr; port: number } {
  const v = str(op, key);
  const ap = parseAddrPort(v);
  if (!ap) throw new OpError(`${key}: expected ADDR:PORT or [ADDR]:PORT, got ${JSON.stringify(v)}`);
  return ap;
}

function protoOf(op: Json, svc: Service): number {
  const p = op.proto ?? svc.protocol ?? "tcp";
  if (p === "tcp") return IPPROTO_TCP;
  if (p === "udp") return IPPROTO_UDP;
  if (p === "sctp") return IPPROTO_SCTP;
  throw new OpError("proto: expected tcp, udp or sctp");
}

function defaultTarget(svc: Service): { addr: IpAddr; port: number } {
  if (svc.id.kind === "addr") return { addr: svc.id.addr, port: svc.id.port };
  return { addr: parseIp(svc.af === "inet" ? "0.0.0.0" : "::")!, port: 0 };
}

/** `tcp:ADDR:PORT` as the op names it → the director's service key (canonical address text). */
export function normaliseServiceKey(key: string): string {
  const m = /^(tcp|udp|sctp):(.*)$/.exec(key);
  if (m) {
    const ap = parseAddrPort(m[2]);
    return ap ? `${m[1]}:${formatAddrPort(ap.addr, ap.port)}` : key;
  }
  const f = /^fwm(6?):(\d+)$/.exec(key);
  return f ? `fwm${f[1]}:${Number(f[2]) >>> 0}` : key;
}
