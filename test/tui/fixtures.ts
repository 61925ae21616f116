/** Snapshots and fakes for the TUI tests and the frame benchmark (loopback addresses only). */
import { runIpvsadm } from "../../src/cli/ipvsadm/run.ts";
import { createMemoryBackend } from "../../src/director/offline-backend.ts";
import { type Snapshot, validateSnapshot } from "../../src/model/snapshot.ts";
import type { BenchOptions, BenchProgress, BenchRunner, DataSource, TuiEvent } from "../../tui/types.ts";

const rs = (address: string, port: number, weight: number, cps: number, extra: object = {}) => ({
  address,
  port,
  forward: "masq",
  weight,
  active_conns: weight * 3,
  inactive_conns: weight,
  stats: { conns: 1000 * weight, inpkts: 5000, outpkts: 4000, inbytes: 300000, outbytes: 9000000 },
  rates: { cps, inpps: cps * 5, outpps: cps * 4, inbps: cps * 300, outbps: cps * 9000 },
  ...extra,
});

const conn = (i: number, state: string, vport: number, dport: number) => ({
  protocol: "TCP",
  client_address: `127.0.0.${10 + (i % 50)}`,
  client_port: 40000 + i,
  virtual_address: "127.0.0.1",
  virtual_port: vport,
  dest_address: dport === 9001 ? "127.0.0.2" : "127.0.0.3",
  dest_port: dport,
  state,
  expires: 890 - i,
});

/** Two TCP services and a UDP one, a quiesced real server, twelve connections. */
export function smallSnapshot(extra: Record<string, unknown> = {}): Snapshot {
  const states = ["ESTABLISHED", "TIME_WAIT", "FIN_WAIT", "SYN_RECV"];
  return validateSnapshot({
    schema: "uvs-state/1",
    services: [
      {
        protocol: "tcp",
        address: "127.0.0.1",
        port: 8080,
        scheduler: "wlc",
        stats: { conns: 3000, inpkts: 15000, outpkts: 12000, inbytes: 900000, outbytes: 27000000 },
        rates: { cps: 12, inpps: 60, outpps: 48, inbps: 3600, outbps: 108000 },
        destinations: [rs("127.0.0.2", 9001, 2, 8), rs("127.0.0.3", 9002, 0, 0)],
      },
      {
        protocol: "tcp",
        address: "127.0.0.1",
        port: 8443,
        scheduler: "rr",
        persistent: true,
        persistence_timeout: 300,
        destinations: [rs("127.0.0.4", 443, 1, 4)],
      },
      {
        protocol: "udp",
        address: "127.0.0.1",
        port: 53,
        scheduler: "rr",
        destinations: [rs("127.0.0.5", 53, 1, 2)],
      },
    ],
    connections: Array.from({ length: 12 }, (_, i) =>
      conn(i, states[i % 4], 8080, i % 3 === 0 ? 9002 : 9001),
    ),
    ...extra,
  });
}

/** `nsvc` services of `ndest` real servers and `nconn` connections spread over them. */
export function bigSnapshot(nsvc: number, ndest: number, nconn: number): Snapshot {
  const services = Array.from({ length: nsvc }, (_, s) => ({
    protocol: "tcp",
    address: `127.${1 + (s >> 8)}.${s & 255}.1`,
    port: 80,
    scheduler: "wlc",
    stats: { conns: 123456789 + s, inpkts: 5, outpkts: 4, inbytes: 300, outbytes: 9000 },
    rates: { cps: s % 100, inpps: 5, outpps: 4, inbps: 300, outbps: 9000 },
    destinations: Array.from({ length: ndest }, (_, d) =>
      rs(`127.200.${s & 255}.${d + 1}`, 8000 + d, (s + d) % 5, d),
    ),
  }));
  const states = ["ESTABLISHED", "TIME_WAIT", "FIN_WAIT", "CLOSE_WAIT", "SYN_RECV"];
  const connections = Array.from({ length: nconn }, (_, i) => {
    const s = i % nsvc;
    return {
      protocol: "TCP",
      client_address: `127.9.${(i >> 8) & 255}.${i & 255}`,
      client_port: 1024 + (i % 60000),
      virtual_address: `127.${1 + (s >> 8)}.${s & 255}.1`,
      virtual_port: 80,
      dest_address: `127.200.${s & 255}.${(i % ndest) + 1}`,
      dest_port: 8000 + (i % ndest),
      state: states[i % states.length],
      expires: i % 900,
    };
  });
  return validateSnapshot({ schema: "uvs-state/1", services, connections });
}

export interface FakeSource extends DataSource {
  /** every ipvsadm argv the TUI ran */
  commands: string[][];
  /** `connections` of every snapshot request, in order */
  wanted: boolean[];
  pushEvents(...e: TuiEvent[]): void;
}

/** A source over an in-memory director; changes run through the real ipvsadm runner. */
export function memorySource(
  snap: Snapshot,
  opts: { events?: TuiEvent[] | null; extra?: Record<string, unknown> } = {},
): FakeSource {
  const backend = createMemoryBackend(snap);
  const log = opts.events === null ? null : [...(opts.events ?? [])];
  const commands: string[][] = [];
  const wanted: boolean[] = [];
  return {
    label: "daemon /tmp/fake.sock",
    commands,
    wanted,
    snapshot: async (o) => {
      const want = o?.connections ?? true;
      wanted.push(want);
      const snap = await backend.snapshot();
      return { ...snap, ...(want ? {} : { connections: [] }), ...(opts.extra ?? {}) };
    },
    events: log ? async (since) => log.filter((e) => e.seq > since) : null,
    pushEvents: (...e) => log?.push(...e),
    ipvsadm: (argv) => {
      commands.push(argv);
      return runIpvsadm(argv, {
        argv0: "ipvsadm",
        readStdin: async () => "",
        openBackend: async () => backend,
      });
    },
    close() {},
  };
}

/** A bench runner whose progress and end the test drives. */
export function fakeBench() {
  let progress: ((p: BenchProgress) => void) | undefined;
  let finish: (r: string) => void = () => {};
  let fail: (e: Error) => void = () => {};
  const started: BenchOptions[] = [];
  let cancelled = 0;
  const runner: BenchRunner<string> = {
    startBench(opts, onProgress) {
      started.push(opts);
      progress = onProgress;
      const result = new Promise<string>((res, rej) => {
        finish = res;
        fail = rej;
      });
      return {
        result,
        cancel: () => {
          cancelled++;
          fail(new Error("interrupted"));
        },
      };
    },
    formatReport: (r, opts) =>
      `Server Software:        fake\nServer Hostname:        ${new URL(opts.url).hostname}\n${r}\n`,
  };
  return {
    runner: runner as BenchRunner,
    started,
    cancelled: () => cancelled,
    progress: (p: BenchProgress) => progress?.(p),
    finish: (r: string) => finish(r),
    fail: (e: Error) => fail(e),
  };
}

export const EVENTS: TuiEvent[] = [
  {
    seq: 1,
    time: Date.UTC(2025, 0, 2, 3, 4, 5),
    level: "info",
    msg: "uvs daemon ready",
    fields: { rules: "/etc/uvs/uvs.conf" },
  },
  {
    seq: 2,
    time: Date.UTC(2025, 0, 2, 3, 4, 9),
    level: "notice",
    msg: "control: edit-server",
    fields: { server: "127.0.0.3:9002", weight: 0 },
  },
  {
    seq: 3,
    time: Date.UTC(2025, 0, 2, 3, 5, 0),
    level: "error",
    msg: "rules file rejected",
    fields: { line: 12 },
  },
];
