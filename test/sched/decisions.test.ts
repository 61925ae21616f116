/**
 * Table-driven decision sequences per scheduler. Expected picks are derived by hand from the
 * kernel algorithms (spec §4 and the ip_vs_*.c sources) or from Appendix B's hash vectors.
 */
import { describe, expect, test } from "bun:test";
import type { SchedulerOptions } from "../../src/sched/registry.ts";
import { type DestSpec, d, type Op, Sim } from "./harness.ts";

const A = "198.51.100.11:80";
const B = "198.51.100.12:80";
const C = "198.51.100.13:80";
const D = "198.51.100.14:80";

interface Case {
  name: string;
  scheduler: string;
  flags?: string[];
  /** In ADD order (the kernel list is the reverse). */
  dests: DestSpec[];
  /** Create the service with this scheduler, then switch (`ipvsadm -E`) once the dests exist. */
  via?: string;
  opts?: SchedulerOptions;
  ops: Op[];
  expect: (string | null)[];
}

let port = 40000;
const conn = (to?: string, client = "203.0.113.7"): Op => ({
  op: "connect",
  client: `${client}:${port++}`,
  to,
});
const conns = (n: number, to?: string): Op[] => Array.from({ length: n }, () => conn(to));
const randomFrom = (values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length];
};

const CASES: Case[] = [
  // rr
  {
    name: "rr skips weight 0 and overloaded dests",
    scheduler: "rr",
    dests: [d(A, 1, 1), d(B, 0), d(C)],
    ops: conns(4),
    expect: [C, A, C, C],
  },
  {
    name: "rr: deleting the cursor dest resumes at its successor",
    scheduler: "rr",
    dests: [d(A), d(B), d(C)],
    ops: [...conns(2), { op: "del_dest", dest: B }, ...conns(3)],
    expect: [C, B, A, C, A],
  },
  {
    name: "rr: deleting the cursor at the list head restarts from the new head",
    scheduler: "rr",
    dests: [d(A), d(B), d(C)],
    ops: [conn(), { op: "del_dest", dest: C }, ...conns(3)],
    expect: [C, B, A, B],
  },
  {
    name: "rr: a new dest (list front) is reached only after the scan wraps",
    scheduler: "rr",
    dests: [d(A), d(B), d(C)],
    ops: [conn(), { op: "add_dest", ...d(D) }, ...conns(5)],
    expect: [C, B, A, D, C, B],
  },
  // wrr
  {
    name: "wrr bound with the dests present (-E): cw starts at mw (spec example)",
    scheduler: "wrr",
    via: "rr",
    dests: [d(C, 2), d(B, 3), d(A, 4)],
    ops: conns(12),
    expect: [A, A, B, A, B, C, A, B, C, A, A, B],
  },
  {
    name: "wrr: an edit lowering mw below cw resets cw to mw and the cursor to the head",
    scheduler: "wrr",
    via: "rr",
    dests: [d(C, 2), d(B, 3), d(A, 4)],
    ops: [conn(), { op: "set_weight", dest: A, weight: 2 }, ...conns(8)],
    expect: [A, B, A, B, C, A, B, C, B],
  },
  {
    name: "wrr with gcd 2: passes run at cw = mw - (di - 1) and 1",
    scheduler: "wrr",
    via: "rr",
    dests: [d(B, 2), d(A, 4)],
    ops: conns(6),
    expect: [A, A, B, A, A, B],
  },
  {
    name: "wrr: an overloaded dest is skipped in every pass",
    scheduler: "wrr",
    via: "rr",
    dests: [d(C, 1), d(B, 1, 1), d(A, 1)],
    ops: conns(5),
    expect: [A, B, C, A, C],
  },
  // lc
  {
    name: "lc: (active << 8) + inactive, strict < keeps the earlier dest",
    scheduler: "lc",
    dests: [d(A), d(B), d(C)],
    ops: [conn(), { op: "close", conn: 0 }, ...conns(4)],
    expect: [C, B, A, C, B],
  },
  // wlc
  {
    name: "wlc: upper threshold sets OVERLOAD, expiry below 3/4 clears it",
    scheduler: "wlc",
    dests: [d(A), d(B), d(C, 1, 1)],
    ops: [...conns(4), { op: "expire", conn: 0 }, conn()],
    expect: [C, B, A, B, C],
  },
  {
    name: "wlc counts inactive connections (contrast with sed)",
    scheduler: "wlc",
    dests: [d(A), d(B)],
    ops: [conn(), { op: "close", conn: 0 }, conn()],
    expect: [B, A],
  },
  // sed
  {
    name: "sed: overhead = active + 1, inactive ignored",
    scheduler: "sed",
    dests: [d(A), d(B)],
    ops: [conn(), { op: "close", conn: 0 }, conn()],
    expect: [B, B],
  },
  {
    name: "sed: weights 2:1 with ties kept by the newer dest",
    scheduler: "sed",
    dests: [d(A, 1), d(B, 2)],
    ops: conns(6),
    expect: [B, B, A, B, B, A],
  },
  // nq
  {
    name: "nq: the first idle dest wins at once, then the sed minimum",
    scheduler: "nq",
    dests: [d(A, 1), d(B, 5), d(C, 1)],
    ops: conns(5),
    expect: [C, B, A, B, B],
  },
  // fo
  {
    name: "fo: highest weight, first in list on ties, overloaded skipped, edits take effect",
    scheduler: "fo",
    dests: [d(A, 3), d(B, 3, 2), d(C, 2)],
    ops: [...conns(4), { op: "set_weight", dest: C, weight: 5 }, conn()],
    expect: [B, B, A, A, C],
  },
  // ovf
  {
    name: "ovf: fill the heaviest until active > weight, then overflow; none left -> null",
    scheduler: "ovf",
    dests: [d(A, 2), d(B, 2), d(C, 1)],
    ops: conns(9),
    expect: [B, B, B, A, A, A, C, C, null],
  },
  // twos
  {
    name: "twos with a fixed random source: r in [0, total], lighter of the two choices",
    scheduler: "twos",
    dests: [d(A), d(B), d(C)],
    opts: { random: randomFrom([0, 3, 3, 0, 1, 2, 2, 3]) },
    ops: conns(4),
    expect: [C, A, B, B],
  },
  {
    name: "twos: the inclusive top value total lands on the last dest",
    scheduler: "twos",
    dests: [d(B, 1), d(C, 3)],
    // 0xffffffff % 5 = 0 -> C; 4 -> B (r1 and r2 equal: a single choice)
    opts: { random: randomFrom([4, 4, 0xffffffff, 0xffffffff, 3, 3]) },
    ops: conns(3),
    expect: [B, C, C],
  },
  // dh: hash_32(10.0.0.1, 8) = 39, (10.0.0.2) = 137, (192.168.1.100) = 89 (Appendix B)
  {
    name: "dh: bucket i holds list[i % n]; the packet destination picks the bucket",
    scheduler: "dh",
    dests: [d(A), d(B), d(C)],
    ops: [conn("10.0.0.1:80"), conn("10.0.0.2:80"), conn("192.168.1.100:80")],
    expect: [C, A, A],
  },
  {
    name: "dh: delete rebuilds; weight 0 and OVERLOAD make the bucket fail",
    scheduler: "dh",
    dests: [d(A), d(B), d(C), d(D, 1, 1)],
    ops: [
      conn("10.0.0.1:80"),
      conn("10.0.0.2:80"),
      { op: "set_weight", dest: C, weight: 0 },
      conn("10.0.0.2:80"),
      { op: "del_dest", dest: C },
      conn("10.0.0.2:80"),
      conn("10.0.0.1:80"),
    ],
    // 4 dests [D, C, B, A]: 39 % 4 = 3 -> A, 137 % 4 = 1 -> C. Then [D, B, A]: 137 % 3 = 2 -> A, 39 % 3 = 0 -> D.
    expect: [A, C, null, A, D],
  },
  // sh: buckets of 203.0.113.1/.2/.3 are 50/147/245 (kernel fixture 41)
  {
    name: "sh: a dest fills `weight` consecutive buckets",
    scheduler: "sh",
    dests: [d(A), d(B), d(C, 2)],
    ops: [conn(undefined, "203.0.113.1"), conn(undefined, "203.0.113.2"), conn(undefined, "203.0.113.3")],
    // cycle C, C, B, A: 50 % 4 = 2 -> B, 147 % 4 = 3 -> A, 245 % 4 = 1 -> C
    expect: [B, A, C],
  },
  {
    name: "sh: a weight-0 dest still owns one bucket; without fallback its clients fail",
    scheduler: "sh",
    dests: [d(A), d(B), d(C, 0)],
    ops: [conn(undefined, "203.0.113.1"), conn(undefined, "203.0.113.2")],
    expect: [A, null],
  },
  {
    name: "sh-fallback probes bucket (k + 2 * ihash) & 255",
    scheduler: "sh",
    flags: ["sh-fallback"],
    dests: [d(A), d(B), d(C, 0)],
    // ihash 147 -> C unusable; k = 0 probes (147 + 147) & 255 = 38, 38 % 3 = 2 -> A
    ops: [conn(undefined, "203.0.113.2")],
    expect: [A],
  },
  {
    name: "sh-port hashes port + address (10.0.0.0:1 hashes like 10.0.0.1)",
    scheduler: "sh",
    flags: ["sh-port"],
    dests: [d(A), d(B), d(C)],
    ops: [
      { op: "connect", client: "10.0.0.0:1" },
      { op: "connect", client: "10.0.0.0:2" },
    ],
    // buckets 39 and 137: 39 % 3 = 0 -> C, 137 % 3 = 2 -> A
    expect: [C, A],
  },
  {
    name: "sh without sh-port ignores the source port",
    scheduler: "sh",
    dests: [d(A), d(B), d(C)],
    ops: [
      { op: "connect", client: "10.0.0.1:1" },
      { op: "connect", client: "10.0.0.1:2" },
    ],
    expect: [C, C],
  },
  // lblc
  {
    name: "lblc: a cache hit ignores the threshold OVERLOAD flag",
    scheduler: "lblc",
    dests: [d(B), d(A, 1, 1)],
    ops: [conn("192.0.2.50:80"), conn("192.0.2.50:80"), conn("192.0.2.51:80")],
    expect: [A, A, B],
  },
  {
    name: "lblc: active > weight with an underloaded peer re-schedules and replaces the entry",
    scheduler: "lblc",
    dests: [d(B), d(A)],
    ops: conns(4, "192.0.2.50:80"),
    expect: [A, A, B, B],
  },
  {
    name: "lblc: an entry pointing at a deleted dest is re-scheduled",
    scheduler: "lblc",
    dests: [d(B), d(A)],
    ops: [conn("192.0.2.50:80"), { op: "del_dest", dest: A }, conn("192.0.2.50:80")],
    expect: [A, B],
  },
  // lblcr
  {
    name: "lblcr: the set grows with the wlc pick and serves its least loaded member",
    scheduler: "lblcr",
    dests: [d(B), d(A)],
    ops: conns(5, "192.0.2.50:80"),
    expect: [A, A, B, B, B],
  },
  {
    name: "lblcr: after the expiration the most loaded member leaves the set",
    scheduler: "lblcr",
    dests: [d(B), d(A)],
    // Shorter than the 60 s SYN_RECV timeout, so B's connection is still there when the set expires.
    opts: { lblcrExpiration: 30 },
    ops: [
      ...conns(3, "192.0.2.50:80"),
      { op: "expire", conn: 0 },
      { op: "expire", conn: 1 },
      { op: "advance", seconds: 31 },
      ...conns(2, "192.0.2.50:80"),
    ],
    expect: [A, A, B, A, A],
  },
  {
    name: "lblcr: without the expiration both members stay (control for the case above)",
    scheduler: "lblcr",
    dests: [d(B), d(A)],
    opts: { lblcrExpiration: 30 },
    ops: [
      ...conns(3, "192.0.2.50:80"),
      { op: "expire", conn: 0 },
      { op: "expire", conn: 1 },
      { op: "advance", seconds: 29 },
      ...conns(2, "192.0.2.50:80"),
    ],
    expect: [A, A, B, A, B],
  },
  {
    name: "lblcr: a deleted member is not AVAILABLE and is passed over",
    scheduler: "lblcr",
    dests: [d(C), d(B), d(A)],
    ops: [...conns(3, "192.0.2.50:80"), { op: "del_dest", dest: B }, conn("192.0.2.50:80")],
    // set {B, A}; B deleted -> min A (act 2 > 1, C idle -> overloaded) -> wlc over [A, C] -> C
    expect: [A, A, B, C],
  },
];

describe("decision sequences", () => {
  for (const c of CASES) {
    test(c.name, () => {
      const sim = new Sim({ scheduler: c.via ?? c.scheduler, sched_flags: c.flags }, c.dests, c.opts ?? {});
      if (c.via) sim.editService(c.scheduler, c.flags);
      expect(sim.run(c.ops)).toEqual(c.expect);
    });
  }
});
