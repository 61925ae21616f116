/**
 * Property tests: random command lines and random tables never make runIpvsadm throw, and
 * `-S` fed back through `-R` into an empty table saves the same text again.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { makeNameDb } from "../../src/cli/ipvsadm/names.ts";
import { runIpvsadm } from "../../src/cli/ipvsadm/run.ts";
import { createMemoryBackend } from "../../src/director/offline-backend.ts";
import { type Snapshot, validateSnapshot } from "../../src/model/snapshot.ts";
import { sharedBackend } from "./helpers.ts";

const names = makeNameDb("http 80/tcp www\ndomain 53/udp\nhttp-alt 8080/tcp\n", "192.0.2.1 vip\n");

const WORDS = [
  ..."-A -E -D -C -L -l -Z -a -e -d -R -S --set -h -v --start-daemon --stop-daemon -t -u --sctp-service -f -6".split(
    " ",
  ),
  ..."-s -p -M --pe -b -o -r -g -i -m --tun-type --tun-port --tun-nocsum --tun-csum --tun-remcsum -w -x -y".split(
    " ",
  ),
  ..."-n -c --timeout --daemon --stats --rate --thresholds --persistent-conn --exact --nosort --sort --tun-info".split(
    " ",
  ),
  ..."--mcast-interface --syncid --mcast-group --mcast-port --mcast-ttl --sync-maxlen -Ln -At -p600 -w=3 -- -".split(
    " ",
  ),
  ..."192.0.2.1:80 192.0.2.1 [2001:db8::1]:80 2001:db8::2 10.1 vip:http rr wlc sh mh master backup 0 1 65536".split(
    " ",
  ),
  ..."sh-port,flag-1 gue gre ipip 255.255.255.0 64 http 224.0.0.81 ff05::1 --weight=2 -X".split(" "),
];

const word = fc.oneof(fc.constantFrom(...WORDS), fc.string({ maxLength: 6 }));
const argv = fc.array(word, { maxLength: 10 });

const addr4 = fc.tuple(
  fc.integer({ min: 1, max: 223 }),
  fc.nat(255),
  fc.nat(255),
  fc.integer({ min: 1, max: 254 }),
);
const anyAddr = addr4.map((p) => p.join("."));
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const counters = (keys: string[]) => fc.record(Object.fromEntries(keys.map((k) => [k, u64])));

/** Tables with any values the snapshot schema allows (wide ranges, wrap-around sort keys). */
const anySnapshot = fc
  .record({
    services: fc.array(
      fc.record({
        protocol: fc.constantFrom("tcp", "udp", "sctp"),
        address: anyAddr,
        port: fc.nat(65535),
        fwmark: fc.option(fc.integer({ min: 1, max: 0xffffffff }), { nil: null }),
        scheduler: fc.constantFrom("rr", "sh", "mh", "none"),
        sched_flags: fc.subarray(["flag-1", "flag-2", "flag-3"]),
        persistent: fc.boolean(),
        persistence_timeout: fc.nat(2678400),
        one_packet: fc.boolean(),
        pe_name: fc.option(fc.constant("sip"), { nil: null }),
        stats: counters(["conns", "inpkts", "outpkts", "inbytes", "outbytes"]),
        rates: counters(["cps", "inpps", "outpps", "inbps", "outbps"]),
        destinations: fc.array(
          fc.record({
            address: anyAddr,
            port: fc.nat(65535),
            forward: fc.constantFrom("masq", "route", "tunnel", "local"),
            weight: fc.nat(65535),
            tunnel_type: fc.constantFrom("ipip", "gue", "gre"),
            tunnel_port: fc.nat(65535),
            tunnel_csum: fc.constantFrom("nocsum", "csum", "remcsum"),
            active_conns: fc.nat(),
            stats: counters(["conns", "inpkts", "outpkts", "inbytes", "outbytes"]),
            rates: counters(["cps", "inpps", "outpps", "inbps", "outbps"]),
          }),
          { maxLength: 4 },
        ),
      }),
      { maxLength: 5 },
    ),
    connections: fc.array(
      fc.record({
        protocol: fc.constantFrom("TCP", "UDP", "SCTP", "IP"),
        client_address: anyAddr,
        client_port: fc.nat(65535),
        virtual_address: anyAddr,
        virtual_port: fc.nat(65535),
        dest_address: anyAddr,
        dest_port: fc.nat(65535),
        state: fc.constantFrom("ESTABLISHED", "NONE", "UDP"),
        expires: fc.nat(),
        pe_name: fc.option(fc.constant("sip"), { nil: null }),
        pe_data: fc.option(
          fc.string({ minLength: 1, maxLength: 300 }).filter((s) => !/\s/.test(s)),
          { nil: null },
        ),
      }),
      { maxLength: 4 },
    ),
  })
  .map((o) => validateSnapshot({ schema: "uvs-state/1", ...o }));

const LISTINGS = [
  ["-Ln"],
  ["-L"],
  ["-Ln", "--stats"],
  ["-Ln", "--rate", "--exact"],
  ["-Ln", "--thresholds"],
  ["-Ln", "--persistent-conn"],
  ["-Ln", "--tun-info", "--nosort"],
  ["-Lnc", "--persistent-conn"],
  ["-Lc"],
  ["-S"],
  ["-S", "-n"],
];

function runOn(snap: Snapshot | null, args: string[], stdin = "") {
  return runIpvsadm(args, {
    argv0: "ipvsadm",
    readStdin: async () => stdin,
    openBackend: async () => createMemoryBackend(structuredClone(snap ?? validateSnapshot({}))),
    names,
  });
}

function wellFormed(r: { stdout: string; stderr: string; code: number }) {
  expect(typeof r.stdout).toBe("string");
  expect(typeof r.stderr).toBe("string");
  expect([0, 1, 2, 255]).toContain(r.code);
  // Exit 1 is only ipvsadm's "No such service"; anything else would be an internal failure.
  if (r.code === 1) expect(r.stderr).toBe("No such service\n");
}

describe("robustness", () => {
  test("random argv never throws", async () => {
    await fc.assert(
      fc.asyncProperty(argv, fc.array(argv, { maxLength: 4 }), async (args, lines) => {
        wellFormed(await runOn(null, args, lines.map((l) => l.join(" ")).join("\n")));
      }),
      { numRuns: 400 },
    );
  });

  test("random tables render in every view without throwing", async () => {
    await fc.assert(
      fc.asyncProperty(anySnapshot, fc.constantFrom(...LISTINGS), async (snap, args) => {
        const r = await runOn(snap, args);
        expect(r).toMatchObject({ stderr: "", code: 0 });
        // every real-server and service line ends with a newline; no "undefined" leaks through
        expect(r.stdout).not.toContain("undefined");
      }),
      { numRuns: 200 },
    );
  });
});

/**
 * Tables the kernel accepts and ipvsadm can save faithfully: marks below 2^31 (larger ones are
 * saved negative and rejected by -R, as in ipvsadm), thresholds 0 (not saved), keys close enough
 * that the sort comparator is transitive, so the order does not depend on the kernel's.
 */
const saveableSnapshot = fc
  .array(
    fc.record({
      kind: fc.constantFrom("tcp", "udp", "sctp", "fwm"),
      af: fc.constantFrom("inet", "inet6"),
      host: fc.integer({ min: 1, max: 254 }),
      port: fc.integer({ min: 0, max: 65535 }),
      fwmark: fc.integer({ min: 1, max: 0x7fffffff }),
      scheduler: fc.constantFrom("rr", "wlc", "sh", "mh", "lc"),
      flagBits: fc.subarray([0, 1, 2]),
      persistent: fc.boolean(),
      timeout: fc.integer({ min: 1, max: 2678400 }),
      v4mask: fc.constantFrom("255.255.255.255", "255.255.255.0", "255.255.0.0"),
      v6mask: fc.integer({ min: 1, max: 128 }),
      ops: fc.boolean(),
      pe: fc.boolean(),
      dests: fc.uniqueArray(
        fc.record({
          host: fc.integer({ min: 1, max: 254 }),
          port: fc.integer({ min: 1, max: 65535 }),
          forward: fc.constantFrom("masq", "route", "tunnel"),
          weight: fc.nat(65535),
          tunType: fc.constantFrom("ipip", "gue", "gre"),
          tunPort: fc.integer({ min: 1, max: 65535 }),
          csum: fc.constantFrom("nocsum", "csum", "remcsum"),
          v6: fc.boolean(),
        }),
        { maxLength: 4, selector: (d) => `${d.host}/${d.port}/${d.v6}` },
      ),
    }),
    { maxLength: 6 },
  )
  .map(buildSaveable);

type SvcGen = {
  kind: string;
  af: "inet" | "inet6";
  host: number;
  port: number;
  fwmark: number;
  scheduler: string;
  flagBits: number[];
  persistent: boolean;
  timeout: number;
  v4mask: string;
  v6mask: number;
  ops: boolean;
  pe: boolean;
  dests: {
    host: number;
    port: number;
    forward: string;
    weight: number;
    tunType: string;
    tunPort: number;
    csum: string;
    v6: boolean;
  }[];
};

function flagNames(scheduler: string, bits: number[]): string[] {
  const prefix = scheduler === "sh" || scheduler === "mh" ? scheduler : null;
  return bits.map((b) =>
    b === 2 || !prefix ? `flag-${b + 1}` : `${prefix}-${b === 0 ? "fallback" : "port"}`,
  );
}

function buildDest(svcAf: string, fwm: boolean, svcPort: number, d: SvcGen["dests"][number]) {
  const tunnel = d.forward === "tunnel";
  const af = tunnel && d.v6 ? "inet6" : tunnel ? "inet" : svcAf;
  const csum =
    d.tunType === "ipip" ? "nocsum" : d.tunType === "gre" && d.csum === "remcsum" ? "csum" : d.csum;
  return {
    af,
    address: af === "inet6" ? `2001:db8::2:${d.host}` : `198.51.100.${d.host}`,
    port: fwm || d.forward === "masq" ? d.port : svcPort,
    forward: d.forward,
    weight: d.weight,
    tunnel_type: tunnel ? d.tunType : "ipip",
    tunnel_port: tunnel && d.tunType === "gue" ? d.tunPort : 0,
    tunnel_csum: tunnel ? csum : "nocsum",
  };
}

function buildSaveable(gens: SvcGen[]): Snapshot {
  const seen = new Set<string>();
  const services = [];
  for (const g of gens) {
    const fwm = g.kind === "fwm";
    const key = fwm ? `f${g.af}${g.fwmark}` : `${g.kind}${g.af}${g.host}:${g.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const persistent = g.persistent || (!fwm && g.port === 0);
    const destKeys = new Set<string>();
    const dests = g.dests
      .map((d) => buildDest(g.af, fwm, g.port, d))
      .filter((d) => !destKeys.has(`${d.address}:${d.port}`) && destKeys.add(`${d.address}:${d.port}`));
    services.push({
      af: g.af,
      protocol: fwm ? null : g.kind,
      address: fwm ? null : g.af === "inet6" ? `2001:db8::1:${g.host}` : `192.0.2.${g.host}`,
      port: fwm ? null : g.port,
      fwmark: fwm ? g.fwmark : null,
      scheduler: g.scheduler,
      sched_flags: flagNames(g.scheduler, g.flagBits),
      persistent,
      persistence_timeout: persistent ? g.timeout : 0,
      netmask: g.af === "inet" ? (persistent ? g.v4mask : "255.255.255.255") : persistent ? g.v6mask : 128,
      one_packet: g.ops && (fwm || g.kind === "udp"),
      pe_name: g.pe && persistent ? "sip" : null,
      destinations: dests,
    });
  }
  return validateSnapshot({ schema: "uvs-state/1", services });
}

describe("save → restore → save", () => {
  for (const args of [["-S", "-n"], ["-S"]]) {
    test(`${args.join(" ")} output restores to the same table`, async () => {
      await fc.assert(
        fc.asyncProperty(saveableSnapshot, async (snap) => {
          const original = sharedBackend(snap, names);
          const saved = await original(args);
          expect(saved.code).toBe(0);
          const fresh = sharedBackend(null, names);
          const restored = await fresh(["-R"], saved.stdout);
          expect(restored).toEqual({ stdout: "", stderr: "", code: 0 });
          expect((await fresh(args)).stdout).toBe(saved.stdout);
          // The restored table is the same table, not just one that saves alike.
          const view = ["-Ln", "--tun-info"];
          expect((await fresh(view)).stdout).toBe((await original(view)).stdout);
        }),
        { numRuns: 150 },
      );
    });
  }
});
