/**
 * A tiny kernel-like driver for scheduler tests: builds a Service the way the kernel does (service
 * first, then each dest inserted at the list head followed by the add_dest hook) and replays
 * `uvs simulate`-style ops, counting connections on the chosen dest with the threshold rules.
 */
import { type IpAddr, parseAddrPort, parseIp } from "../../src/model/addr.ts";
import { Dest } from "../../src/model/dest.ts";
import { RateEstimator } from "../../src/model/rate.ts";
import { type Protocol, Service, SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3 } from "../../src/model/service.ts";
import { createScheduler, type SchedulerOptions } from "../../src/sched/registry.ts";
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

const FLAG_BITS: Record<string, number> = {
  "flag-1": SVC_F_SCHED1,
  "sh-fallback": SVC_F_SCHED1,
  "mh-fallback": SVC_F_SCHED1,
  "flag-2": SVC_F_SCHED2,
  "sh-port": SVC_F_SCHED2,
  "mh-port": SVC_F_SCHED2,
  "flag-3": SVC_F_SCHED3,
};

export function schedFlags(names: readonly string[] = []): number {
  let f = 0;
  for (const n of names) {
    const bit = FLAG_BITS[n];
    if (bit === undefined) throw new Error(`unknown sched flag ${n}`);
    f |= bit;
  }
  return f;
}

function ip(text: string): IpAddr {
  const a = parseIp(text);
  if (!a) throw new Error(`bad address ${text}`);
  return a;
}

function addrPort(text: string): { addr: IpAddr; port: number } {
  const ap = parseAddrPort(text);
  if (!ap) throw new Error(`bad addr:port ${text}`);
  return ap;
}

export function makeDest(spec: DestSpec): Dest {
  const addr = ip(spec.address);
  return new Dest(
    {
      af: addr.af,
      addr,
      port: spec.port,
      forward: "masq",
      weight: spec.weight,
      uThreshold: spec.u_threshold ?? 0,
      lThreshold: spec.l_threshold ?? 0,
      tunnelType: "ipip",
      tunnelPort: 0,
      tunnelCsum: "nocsum",
    },
    new RateEstimator(),
  );
}

export function makeService(spec: ServiceSpec): Service {
  const cfg = {
    scheduler: spec.scheduler,
    flags: schedFlags(spec.sched_flags),
    timeout: 0,
    netmask: 0,
    peName: null,
  };
  if (spec.fwmark !== undefined) {
    const af = spec.family === "ipv6" ? "inet6" : "inet";
    return new Service({ kind: "fwmark", af, fwmark: spec.fwmark }, cfg);
  }
  const addr = ip(spec.address ?? "192.0.2.10");
  const id = {
    kind: "addr" as const,
    af: addr.af,
    protocol: spec.protocol ?? "tcp",
    addr,
    port: spec.port ?? 80,
  };
  return new Service(id, cfg);
}

interface Conn {
  dest: Dest | null;
  active: boolean;
  live: boolean;
}

export class Sim {
  readonly svc: Service;
  sched: Scheduler;
  now: number;
  readonly conns: Conn[] = [];
  /** Deleted dests by key, so a re-add revives the same object (the kernel's trash). */
  private readonly trash = new Map<string, Dest>();

  constructor(
    spec: ServiceSpec,
    dests: readonly DestSpec[] = [],
    private readonly opts: SchedulerOptions = {},
    startMs = 0,
  ) {
    this.now = startMs;
    this.svc = makeService(spec);
    const sched = createScheduler(spec.scheduler, this.svc, this.now, opts);
    if (!sched) throw new Error(`unknown scheduler ${spec.scheduler}`);
    this.sched = sched;
    this.svc.sched = sched;
    for (const d of dests) this.addDest(d);
  }

  dest(key: string): Dest {
    const d = this.svc.dests.find((x) => x.key === key) ?? this.trash.get(key);
    if (!d) throw new Error(`no dest ${key}`);
    return d;
  }

  /** Kernel list order (newest first) as keys. */
  order(): string[] {
    return this.svc.dests.map((d) => d.key);
  }

  packet(client: string, to?: string, proto?: Protocol): SchedPacket {
    const c = addrPort(client);
    const svcAddr = this.svc.id.kind === "addr" ? this.svc.id.addr : ip("0.0.0.0");
    const t = to ? addrPort(to) : { addr: svcAddr, port: this.svc.port };
    return {
      af: c.addr.af,
      protocol: proto ?? this.svc.protocol ?? "tcp",
      saddr: c.addr,
      sport: c.port,
      daddr: t.addr,
      dport: t.port,
    };
  }

  /** Schedule without counting (a probe). */
  pick(client: string, to?: string): Dest | null {
    return this.sched.schedule(this.svc, this.packet(client, to), this.now);
  }

  /** A new connection: schedule, then bind it (TCP counts as active) and apply the upper threshold. */
  connect(client: string, to?: string, proto?: Protocol): Dest | null {
    const pkt = this.packet(client, to, proto);
    const d = this.sched.schedule(this.svc, pkt, this.now);
    const active = pkt.protocol === "tcp";
    this.conns.push({ dest: d, active, live: d !== null });
    if (d) {
      if (active) d.activeConns++;
      else d.inactConns++;
      if (d.uThreshold !== 0 && d.totalConns() >= d.uThreshold) d.overloaded = true;
    }
    return d;
  }

  close(k: number): void {
    const c = this.conns[k];
    if (!c.dest || !c.live || !c.active) return;
    c.active = false;
    c.dest.activeConns--;
    c.dest.inactConns++;
  }

  /** ip_vs_unbind_dest: counters fall, then the overload flag may clear. */
  expire(k: number): void {
    const c = this.conns[k];
    if (!c.dest || !c.live) return;
    c.live = false;
    const d = c.dest;
    if (c.active) d.activeConns--;
    else d.inactConns--;
    if (d.lThreshold !== 0) {
      if (d.totalConns() < d.lThreshold) d.overloaded = false;
    } else if (d.uThreshold !== 0) {
      if (d.totalConns() * 4 < d.uThreshold * 3) d.overloaded = false;
    } else d.overloaded = false;
  }

  advance(seconds: number): void {
    this.now += seconds * 1000;
    this.sched.tick?.(this.svc, this.now);
  }

  addDest(spec: DestSpec): Dest {
    const key = makeDest(spec).key;
    const old = this.trash.get(key);
    const d = old ?? makeDest(spec);
    this.trash.delete(key);
    this.update(d, spec.weight, spec.u_threshold ?? 0, spec.l_threshold ?? 0, true);
    d.available = true;
    this.svc.dests.unshift(d);
    this.sched.addDest?.(this.svc, d);
    return d;
  }

  editDest(key: string, weight: number, u: number, l: number): void {
    const d = this.dest(key);
    this.update(d, weight, u, l, false);
    this.sched.updDest?.(this.svc, d);
  }

  setWeight(key: string, weight: number): void {
    const d = this.dest(key);
    this.editDest(key, weight, d.uThreshold, d.lThreshold);
  }

  /** __ip_vs_update_dest: last_weight keeps the latest non-zero weight (set on add even if 0). */
  private update(d: Dest, weight: number, u: number, l: number, add: boolean): void {
    if (add || weight !== 0) d.lastWeight = weight;
    d.weight = weight;
    if (u === 0 || u > d.uThreshold) d.overloaded = false;
    d.uThreshold = u;
    d.lThreshold = l;
  }

  delDest(key: string): void {
    const d = this.dest(key);
    d.available = false;
    this.svc.dests.splice(this.svc.dests.indexOf(d), 1);
    this.trash.set(key, d);
    this.sched.delDest?.(this.svc, d);
  }

  /** ipvsadm -E: flags replaced; the scheduler is re-created only when its name changes. */
  editService(scheduler: string, flags: readonly string[] = []): void {
    this.svc.flags = schedFlags(flags);
    if (scheduler === this.sched.name) return;
    this.sched.done?.(this.svc);
    const s = createScheduler(scheduler, this.svc, this.now, this.opts);
    if (!s) throw new Error(`unknown scheduler ${scheduler}`);
    this.sched = s;
    this.svc.sched = s;
    this.svc.scheduler = scheduler;
  }

  /** Run ops; returns the chosen `addr:port` (or null) of each connect. */
  run(ops: readonly Op[]): (string | null)[] {
    const out: (string | null)[] = [];
    for (const o of ops) {
      switch (o.op) {
        case "connect":
          out.push(this.connect(o.client, o.to, o.proto)?.key ?? null);
          break;
        case "close":
          this.close(o.conn);
          break;
        case "expire":
          this.expire(o.conn);
          break;
        case "advance":
          this.advance(o.seconds);
          break;
        case "set_weight":
          this.setWeight(o.dest, o.weight);
          break;
        case "edit_dest":
          this.editDest(o.dest, o.weight, o.u_threshold, o.l_threshold);
          break;
        case "add_dest":
          this.addDest(o);
          break;
        case "del_dest":
          this.delDest(o.dest);
          break;
        case "edit_service":
          this.editService(o.scheduler, o.sched_flags);
          break;
      }
    }
    return out;
  }
}

/** `n` dests 10.0.<i/250>.<i%250+1>:80 with weight w(i) (add order i = 0..n-1). */
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
