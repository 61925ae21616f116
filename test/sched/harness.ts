/**
 * Scheduler tests on the real director: the service is created through the Director API, and
 * every dest change and connection goes through `uvs simulate`'s engine (Simulation), so list
 * order, connection counting, the threshold rules, last_weight and the trash are the director's.
 * Only `pick` (a probe that binds nothing) calls the service's scheduler directly.
 */
import { Director } from "../../src/director/director.ts";
import { Simulation } from "../../src/director/simulate.ts";
import { type IpAddr, parseAddrPort, parseIp } from "../../src/model/addr.ts";
import type { Dest } from "../../src/model/dest.ts";
import { type Protocol, type Service, type ServiceId, schedFlagsFromNames } from "../../src/model/service.ts";
import type { SchedulerOptions } from "../../src/sched/registry.ts";
import type { SchedPacket, Scheduler } from "../../src/sched/scheduler.ts";

export interface DestSpec {
  address: string;
  port: number;
  weight: number;
  u_threshold?: number;
  l_threshold?: number;
}

export interface ServiceSpec {
  scheduler: string;
  protocol?: Protocol;
  address?: string;
  port?: number;
  fwmark?: number;
  family?: "ipv4" | "ipv6";
  sched_flags?: string[];
}

/** One `uvs simulate` operation (specs/simulate.md), sent to Simulation as is. */
export type Op =
  | { op: "connect"; client: string; to?: string; proto?: Protocol }
  | { op: "close"; conn: number }
  | { op: "expire"; conn: number }
  | { op: "advance"; seconds: number }
  | { op: "set_weight"; dest: string; weight: number }
  | { op: "edit_dest"; dest: string; weight: number; u_threshold: number; l_threshold: number }
  | ({ op: "add_dest" } & DestSpec)
  | { op: "del_dest"; dest: string }
  | { op: "edit_service"; scheduler: string; sched_flags?: string[] };

function addrPort(text: string): { addr: IpAddr; port: number } {
  const ap = parseAddrPort(text);
  if (!ap) throw new Error(`bad addr:port ${text}`);
  return ap;
}

function serviceId(spec: ServiceSpec): ServiceId {
  if (spec.fwmark !== undefined)
    return { kind: "fwmark", af: spec.family === "ipv6" ? "inet6" : "inet", fwmark: spec.fwmark };
  const addr = parseIp(spec.address ?? "192.0.2.10");
  if (!addr) throw new Error(`bad address ${spec.address}`);
  return { kind: "addr", af: addr.af, protocol: spec.protocol ?? "tcp", addr, port: spec.port ?? 80 };
}

export class Sim {
  readonly director: Director;
  private readonly simulation: Simulation;
  private readonly id: ServiceId;
  private lineNo = 0;

  /** `opts` (random source, lblc/lblcr expirations) become the director's options. */
  constructor(spec: ServiceSpec, dests: readonly DestSpec[] = [], opts: SchedulerOptions = {}) {
    this.director = new Director(opts);
    this.simulation = new Simulation(this.director);
    this.id = serviceId(spec);
    const flags = schedFlagsFromNames(spec.sched_flags ?? []);
    if (flags === null) throw new Error(`unknown sched flag in ${spec.sched_flags}`);
    const netmask = this.id.af === "inet6" ? 128 : 0xffffffff;
    const config = { scheduler: spec.scheduler, flags, timeout: 0, netmask, peName: null };
    const r = this.director.apply({ op: "add-service", service: this.id, config });
    if (!r.ok) throw new Error(`add-service ${spec.scheduler}: ${r.errno}`);
    for (const d of dests) this.addDest(d);
  }

  get svc(): Service {
    return this.director.findService(this.id)!;
  }

  get sched(): Scheduler {
    const s = this.svc.sched;
    if (!s) throw new Error("the service has no scheduler");
    return s;
  }

  get now(): number {
    return this.director.now;
  }

  /** A dest of the service, or a deleted one still in the director's trash. */
  dest(key: string): Dest {
    const d =
      this.svc.dests.find((x) => x.key === key) ?? [...this.director.trash].find((x) => x.key === key);
    if (!d) throw new Error(`no dest ${key}`);
    return d;
  }

  /** Kernel list order (newest first) as keys. */
  order(): string[] {
    return this.svc.dests.map((d) => d.key);
  }

  /** Schedule without creating a connection (a probe): nothing is counted. */
  pick(client: string, to?: string): Dest | null {
    const svc = this.svc;
    const c = addrPort(client);
    const t = to
      ? addrPort(to)
      : { addr: svc.id.kind === "addr" ? svc.id.addr : parseIp("0.0.0.0")!, port: svc.port };
    const pkt: SchedPacket = {
      af: c.addr.af,
      protocol: svc.protocol ?? "tcp",
      saddr: c.addr,
      sport: c.port,
      daddr: t.addr,
      dport: t.port,
    };
    return this.sched.schedule(svc, pkt, this.director.now);
  }

  /** Run one op through Simulation; a refused or malformed op fails the test. */
  private exec(op: Op): string | null {
    const out = this.simulation.run(JSON.stringify(op), ++this.lineNo);
    if (out === null) return null;
    const r = JSON.parse(out) as { error?: string; dest?: string | null };
    if (r.error !== undefined) throw new Error(`${JSON.stringify(op)}: ${r.error}`);
    return r.dest ?? null;
  }

  /** A new connection (numbered from 0 like `uvs simulate`'s); returns its dest. */
  connect(client: string, to?: string, proto?: Protocol): Dest | null {
    const key = this.exec({ op: "connect", client, to, proto });
    return key === null ? null : this.dest(key);
  }

  close(conn: number): void {
    this.exec({ op: "close", conn });
  }

  expire(conn: number): void {
    this.exec({ op: "expire", conn });
  }

  advance(seconds: number): void {
    this.exec({ op: "advance", seconds });
  }

  addDest(spec: DestSpec): void {
    this.exec({ op: "add_dest", ...spec });
  }

  editDest(dest: string, weight: number, u_threshold: number, l_threshold: number): void {
    this.exec({ op: "edit_dest", dest, weight, u_threshold, l_threshold });
  }

  setWeight(dest: string, weight: number): void {
    this.exec({ op: "set_weight", dest, weight });
  }

  delDest(dest: string): void {
    this.exec({ op: "del_dest", dest });
  }

  /** ipvsadm -E: flags replaced; the scheduler is re-created only when its name changes. */
  editService(scheduler: string, sched_flags: string[] = []): void {
    this.exec({ op: "edit_service", scheduler, sched_flags });
  }

  /** Run ops; returns the chosen `addr:port` (or null) of each connect. */
  run(ops: readonly Op[]): (string | null)[] {
    const out: (string | null)[] = [];
    for (const o of ops) {
      const dest = this.exec(o);
      if (o.op === "connect") out.push(dest);
    }
    return out;
  }
}

/** `n` dests 10.1.<i/250>.<i%250+1>:80 with weight w(i) (add order i = 0..n-1). */
export function destList(n: number, weight: (i: number) => number = () => 1): DestSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    address: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    port: 80,
    weight: weight(i),
  }));
}

/** Shorthand dest spec: "198.51.100.11:80" with a weight. */
export function d(key: string, weight = 1, u = 0, l = 0): DestSpec {
  const { addr, port } = addrPort(key);
  return { address: addr.text, port, weight, u_threshold: u, l_threshold: l };
}
