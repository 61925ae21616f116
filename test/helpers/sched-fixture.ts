/**
 * Kernel scheduler fixtures (fixtures/sched, format in its README) → a uvs-state/1 snapshot and
 * the op lines of `uvs simulate`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Snapshot } from "../../src/model/snapshot.ts";

export interface SchedFixture {
  name: string;
  service: Record<string, unknown>;
  destinations: Record<string, unknown>[];
  ops: Record<string, unknown>[];
  expect: (string | null)[];
  expect_linux_6_12?: (string | null)[];
}

export const SCHED_FIXTURE_DIR = join(import.meta.dir, "../../fixtures/sched");

export function loadSchedFixtures(dir = SCHED_FIXTURE_DIR): SchedFixture[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as SchedFixture);
}

/** The 6.12 answer where the kernels differ, else the common one. */
export function expected(f: SchedFixture): (string | null)[] {
  return f.expect_linux_6_12 ?? f.expect;
}

export function fixtureSnapshot(f: SchedFixture): Snapshot {
  const s = f.service;
  const fwmark = typeof s.fwmark === "number" ? s.fwmark : null;
  const af = s.family === "ipv6" || String(s.address ?? "").includes(":") ? "inet6" : "inet";
  const persistent = s.persistent === true;
  return {
    schema: "uvs-state/1",
    ipvs_info: { version: "1.2.1", version_code: 0x010201, conn_tab_size: 4096 },
    timeouts: { tcp: 900, tcpfin: 120, udp: 300 },
    sync_daemons: [],
    services: [
      {
        af,
        protocol: fwmark === null ? (s.protocol as "tcp") : null,
        address: fwmark === null ? (s.address as string) : null,
        port: fwmark === null ? (s.port as number) : null,
        fwmark,
        scheduler: s.scheduler as string,
        sched_flags: (s.sched_flags as string[]) ?? [],
        persistent,
        persistence_timeout: persistent ? ((s.persistence_timeout ?? s.timeout ?? 360) as number) : 0,
        netmask: (s.netmask as string | number) ?? (af === "inet" ? "255.255.255.255" : 128),
        one_packet: s.one_packet === true,
        pe_name: null,
        flags_raw: 2,
        stats: { conns: 0n, inpkts: 0n, outpkts: 0n, inbytes: 0n, outbytes: 0n },
        rates: { cps: 0n, inpps: 0n, outpps: 0n, inbps: 0n, outbps: 0n },
        // Kernel list order: the last one added comes first.
        destinations: [...f.destinations].reverse().map((d) => ({
          af: String(d.address).includes(":") ? "inet6" : "inet",
          address: d.address as string,
          port: d.port as number,
          forward: ((d.forward as string) ?? "masq") as "masq",
          weight: d.weight as number,
          u_threshold: (d.u_threshold as number) ?? 0,
          l_threshold: (d.l_threshold as number) ?? 0,
          active_conns: (d.active_conns as number) ?? 0,
          inactive_conns: (d.inactive_conns as number) ?? 0,
          persistent_conns: 0,
          tunnel_type: "ipip",
          tunnel_port: 0,
          tunnel_csum: "nocsum",
          stats: { conns: 0n, inpkts: 0n, outpkts: 0n, inbytes: 0n, outbytes: 0n },
          rates: { cps: 0n, inpps: 0n, outpps: 0n, inbps: 0n, outbps: 0n },
        })),
      },
    ],
    connections: [],
  };
}
