/**
 * The proxy plane's epoll TCP engine (src/dataplane/proxy/epoll): how it is selected, that the
 * TCP proxy suites pass on it, and that an idle proxied connection costs little memory.
 */

import { ptr } from "bun:ffi";
import { heapStats } from "bun:jsc";
import { afterAll, describe, expect, test } from "bun:test";
import { parseRunArgs } from "../../src/cli/run.ts";
import { EpollLoop } from "../../src/dataplane/proxy/epoll/loop.ts";
import { ProxyPlane, proxyTcpEngine, relayThreadCount } from "../../src/dataplane/proxy/plane.ts";
import { Director } from "../../src/director/director.ts";
import { type ServiceId, serviceKey } from "../../src/model/service.ts";
import { sockSys } from "../../src/sys/libc.ts";
import { writeSockaddr } from "../../src/sys/sockaddr.ts";
import { EPOLLIN } from "../../src/sys/stream-consts.ts";
import { destConfig, ip, svcConfig } from "../helpers/director.ts";
import { backend, Client, echoBackend, freePort, Lab, LO, waitFor } from "./helpers.ts";

const linux = process.platform === "linux";
const children: ReturnType<typeof Bun.spawn>[] = [];
afterAll(() => {
  for (const c of children) c.kill();
});

describe("epoll engine: selection", () => {
  test("--proxy-engine / UVS_PROXY_ENGINE values: bun, epoll, empty (epoll on Linux); anything else is a clear error", () => {
    expect(proxyTcpEngine(undefined)).toBe(linux ? "epoll" : "bun");
    expect(proxyTcpEngine("")).toBe(linux ? "epoll" : "bun");
    expect(proxyTcpEngine("bun")).toBe("bun");
    expect(proxyTcpEngine("epoll")).toBe("epoll");
    expect(() => proxyTcpEngine("uring")).toThrow(/proxy engine "uring": expected bun or epoll/);
  });

  test("--proxy-threads / UVS_PROXY_THREADS: a count from 0 to 64, default the CPUs when 2 or more", () => {
    const cpus = navigator.hardwareConcurrency ?? 1;
    expect(relayThreadCount(undefined)).toBe(cpus >= 2 ? Math.min(cpus, 64) : 0);
    expect([relayThreadCount("0"), relayThreadCount("3")]).toEqual([0, 3]);
    for (const bad of ["-1", "two", "65", "1.5"])
      expect(() => relayThreadCount(bad)).toThrow(/expected a count from 0 to 64/);
    const ok = parseRunArgs(["--proxy-threads", "2"], undefined);
    expect(typeof ok === "object" && ok.proxyThreads).toBe(2);
    expect(parseRunArgs(["--proxy-threads=x"], undefined)).toContain("expected a count from 0 to 64");
    expect(
      parseRunArgs(["--dataplane", "packet", "--interface", "eth0", "--proxy-threads", "1"], undefined),
    ).toContain("belong to --dataplane proxy");
  });

  test.skipIf(!linux)("the option and the environment choose the engine (needs Linux)", async () => {
    const saved = process.env.UVS_PROXY_ENGINE;
    const log = () => {};
    process.env.UVS_PROXY_ENGINE = "epoll";
    const fromEnv = new ProxyPlane(new Director({}), { log });
    process.env.UVS_PROXY_ENGINE = saved ?? "";
    const explicit = new ProxyPlane(new Director({}), { log, tcpEngine: "epoll" });
    const bun = new ProxyPlane(new Director({}), { log, tcpEngine: "bun" });
    if (saved === undefined) delete process.env.UVS_PROXY_ENGINE;
    expect([fromEnv.tcpEngine, explicit.tcpEngine, bun.tcpEngine]).toEqual(["epoll", "epoll", "bun"]);
    await Promise.all([fromEnv.close(), explicit.close(), bun.close()]);
  });
});

// The suites run on the default engine (epoll on Linux) with the rest of the tests; here they run
// again on the other one, so both engines stay covered.
const other = linux ? "bun" : "epoll";

/** The TCP proxy suites in a child `bun test` with `env`: they must all pass. */
async function proxySuitesPass(env: Record<string, string>): Promise<void> {
  const files = ["tcp-proxy.test.ts", "tcp-flow-control.test.ts", "plane.test.ts", "proxy-protocol.test.ts"];
  const p = Bun.spawn([process.execPath, "test", ...files.map((f) => `${import.meta.dir}/${f}`)], {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  children.push(p);
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  const text = out + err;
  expect(await p.exited, text.slice(-3000)).toBe(0);
  expect(text).toMatch(/\s0 fail/);
  expect(Number(/(\d+) pass/.exec(text)?.[1] ?? 0)).toBeGreaterThan(30);
}

describe.skipIf(!linux)("proxy engines: the TCP proxy suites again (needs Linux)", () => {
  test(`tcp-proxy, tcp-flow-control and plane tests pass with UVS_PROXY_ENGINE=${other}`, async () => {
    await proxySuitesPass({ UVS_PROXY_ENGINE: other });
  }, 60_000);

  // Every flow moves to a relay thread as soon as it is connected: FINs, resets, half-closes,
  // backpressure and expiry all go through the hand-back to the main thread.
  test("they pass with every flow on relay threads (UVS_PROXY_THREADS=2 UVS_RELAY_AFTER=0)", async () => {
    await proxySuitesPass({ UVS_PROXY_ENGINE: "epoll", UVS_PROXY_THREADS: "2", UVS_RELAY_AFTER: "0" });
  }, 60_000);

  test("they pass on one thread (UVS_PROXY_THREADS=0)", async () => {
    await proxySuitesPass({ UVS_PROXY_ENGINE: "epoll", UVS_PROXY_THREADS: "0" });
  }, 60_000);
});

/** A process holding `n` idle clients to `vport` (and a silent backend on `backendPort` unless 0). */
async function idlePeers(backendPort: number, vport: number, n: number): Promise<void> {
  const backend = backendPort ? `Bun.listen({hostname:"${LO}",port:${backendPort},socket:{data(){}}});` : "";
  const code = `${backend}
const s=[];for(let i=0;i<${n};i++)s.push(await Bun.connect({hostname:"${LO}",port:${vport},socket:{data(){}}}));
console.log("up");await new Promise(()=>{})`;
  const p = Bun.spawn([process.execPath, "-e", code], { stdout: "pipe" });
  children.push(p);
  await p.stdout.getReader().read();
}

describe.skipIf(!linux)("epoll engine: idle connections (needs Linux)", () => {
  test("an idle proxied connection holds no buffer, no socket object and at most 3 JS objects", async () => {
    const d = new Director({});
    const vport = freePort();
    const backendPort = freePort();
    const id: ServiceId = { kind: "addr", af: "inet", protocol: "tcp", addr: ip(LO), port: vport };
    d.apply({ op: "add-service", service: id, config: svcConfig({ scheduler: "rr" }) });
    d.apply({ op: "add-server", service: id, dest: destConfig(LO, backendPort) });
    const plane = new ProxyPlane(d, { log: () => {}, tcpEngine: "epoll" });
    const listen = [{ addr: ip(LO), port: vport, protocol: "tcp" as const }];
    try {
      await plane.sync([{ key: serviceKey(id), listen, proxyProtocol: new Map() }]);
      const n = 400;
      // A first batch runs every code path once (JIT, structures, table growth) …
      await idlePeers(backendPort, vport, n);
      await waitFor(() => plane.stats().openConnections === n, 5000, "the first batch");
      Bun.gc(true);
      const before = heapStats();
      // … so that the second one shows what a connection itself costs.
      await idlePeers(0, vport, n);
      await waitFor(() => plane.stats().openConnections === 2 * n, 5000, "the second batch");
      Bun.gc(true);
      const after = heapStats();
      const grew = (type: string) =>
        ((after.objectTypeCounts[type] ?? 0) - (before.objectTypeCounts[type] ?? 0)) / n;
      expect(plane.stats().bufferedBytes).toBe(0);
      expect(grew("TCPSocket")).toBe(0); // Bun's engine: one per side
      expect(grew("Object")).toBeLessThanOrEqual(3); // the flow, its entry reference (+ slack)
      expect(grew("string")).toBeLessThan(0.5); // no addresses kept as text
      expect((after.heapSize - before.heapSize) / n).toBeLessThan(1024);
    } finally {
      await plane.close();
    }
  }, 20_000);
});

describe.skipIf(!linux)("epoll engine: the loop (needs Linux)", () => {
  /** A listening socket of our own on a free port, watched by `loop`; resolves on its first event. */
  function watchListener(loop: EpollLoop): { port: number; fd: number; event: Promise<number> } {
    const port = freePort();
    const fd = sockSys.socket(2, 1 | 0x800, 0);
    const sa = new Uint8Array(new ArrayBuffer(28));
    expect(sockSys.bind(fd, ptr(sa), writeSockaddr(sa, ip(LO), port))).toBe(0);
    expect(sockSys.listen(fd, 8)).toBe(0);
    const event = new Promise<number>((resolve) =>
      loop.add(fd, EPOLLIN, { onEvent: (_fd, ev) => resolve(ev) }, false),
    );
    return { port, fd, event };
  }

  test("an idle loop is woken by its waker when a socket becomes ready", async () => {
    const errors: string[] = [];
    const loop = new EpollLoop((m) => errors.push(m));
    const l = watchListener(loop);
    try {
      await Bun.sleep(100); // idle: the waker sleeps in poll(2)
      const c = await Bun.connect({ hostname: LO, port: l.port, socket: { data() {} } });
      expect((await l.event) & EPOLLIN).toBe(EPOLLIN);
      c.end();
      expect(errors).toEqual([]);
    } finally {
      loop.remove(l.fd);
      sockSys.close(l.fd);
      loop.close();
    }
  });

  test("without a waker (it failed to load) the loop says so and still sees events, by polling", async () => {
    const errors: string[] = [];
    const loop = new EpollLoop((m) => errors.push(m), new URL("./no-such-waker.ts", import.meta.url).href);
    const l = watchListener(loop);
    try {
      await waitFor(() => errors.length > 0, 3000, "the waker error");
      expect(errors[0]).toContain("polling every 10 ms while idle");
      await Bun.sleep(100);
      const c = await Bun.connect({ hostname: LO, port: l.port, socket: { data() {} } });
      expect((await l.event) & EPOLLIN).toBe(EPOLLIN);
      c.end();
    } finally {
      loop.remove(l.fd);
      sockSys.close(l.fd);
      loop.close();
    }
  });
});

describe.skipIf(!linux)("epoll engine: relay threads (needs Linux)", () => {
  /** One request/answer over an open client: write `msg`, wait for its echo. */
  async function exchange(c: Client, msg: string, total: number): Promise<void> {
    c.sock.write(msg);
    await waitFor(() => c.received === total, 3000, `the echo of ${msg}`);
  }

  /** An echo back end, a lab with `relayThreads`, and a client whose flow is on a relay after two requests. */
  async function relayedEcho(relayThreads: number) {
    const echo = echoBackend();
    const lab = await Lab.start({ backends: [{ port: echo.port }], tcpEngine: "epoll", relayThreads });
    const c = await Client.connect(lab.port);
    await exchange(c, "one", 3);
    expect(lab.plane.stats().relayedConnections).toBe(0);
    await exchange(c, "two", 6);
    await waitFor(() => lab.plane.stats().relayedConnections === 1, 1000, "the move to a relay");
    return {
      echo,
      lab,
      c,
      cport: c.sock.localPort,
      async [Symbol.asyncDispose]() {
        c[Symbol.dispose]();
        await lab[Symbol.asyncDispose]();
        echo[Symbol.dispose]();
      },
    };
  }

  test("a kept-alive connection moves to a relay after its second request; counts stay exact; the relay forwards the FINs and closes", async () => {
    await using r = await relayedEcho(2);
    const { echo, lab, c, cport } = r;
    let sent = 6;
    for (let i = 0; i < 50; i++) {
      sent += 100;
      await exchange(c, "x".repeat(100), sent);
    }
    const dest = () => lab.dest(echo.port).stats.read();
    await waitFor(() => dest().outbytes === BigInt(sent), 1000, "the relay's counts");
    expect(dest()).toMatchObject({ inbytes: BigInt(sent), outbytes: BigInt(sent), conns: 1n });
    expect(lab.state(cport)).toBe("ESTABLISHED");
    // The client's FIN goes to the echo, whose FIN comes back: the relay closes both sockets.
    c.sock.shutdown();
    await c.closedWithin();
    await waitFor(() => lab.state(cport) === "TIME_WAIT", 1000, "TIME_WAIT");
    expect(lab.plane.stats()).toMatchObject({ relayedConnections: 0, openConnections: 0 });
    expect(c.closeError).toBeUndefined();
  });

  test("a reset on a relayed flow resets the other side and the entry goes to CLOSE", async () => {
    await using r = await relayedEcho(1);
    const { echo, lab, c, cport } = r;
    echo.conns[0].terminate(); // the backend resets
    await c.closedWithin();
    await waitFor(() => lab.state(cport) === "CLOSE", 1000, "CLOSE");
    expect(lab.plane.stats()).toMatchObject({ relayedConnections: 0, openConnections: 0 });
  });

  test("a relay thread that fails gives its flows back to the main thread, which carries on; a warning says so", async () => {
    await using r = await relayedEcho(1);
    const { lab, c } = r;
    // A command the relay does not know makes it throw: a stand-in for any failure in it.
    const pool = (lab.plane as unknown as { epoll: { relays: unknown } }).epoll.relays as {
      relays: { cmd: { push(kind: number, a: number[]): boolean }; wake: number }[];
    };
    expect(pool.relays[0].cmd.push(99, [0])).toBe(true);
    sockSys.eventSignal(pool.relays[0].wake);
    await waitFor(() => lab.plane.stats().relayedConnections === 0, 3000, "the flow back on the main thread");
    expect(
      lab.events.some((e) => e.type === "warning" && /relay thread of the proxy failed/.test(e.message)),
    ).toBe(true);
    await exchange(c, "three", 11);
    await exchange(c, "four", 15);
    expect(lab.plane.stats().openConnections).toBe(1);
  });

  test("the director's idle timeout recalls a relayed flow and closes it", async () => {
    await using r = await relayedEcho(1);
    const { lab, c, cport } = r;
    lab.advance(901_000);
    await c.closedWithin();
    expect(lab.state(cport)).toBeNull();
    expect(lab.plane.stats()).toMatchObject({ expired: 1, relayedConnections: 0, openConnections: 0 });
  });

  test("a bulk stream on a relay comes back to the main thread and arrives intact", async () => {
    // Echoes the two small requests; counts the bulk (an echo of 8 MiB would need a backend that
    // honours write()'s return value both ways).
    using sink = backend("sink", { data: (s, d) => void (d.length <= 3 && s.write(d)) });
    await using lab = await Lab.start({
      backends: [{ port: sink.port }],
      tcpEngine: "epoll",
      relayThreads: 1,
    });
    const big = Buffer.alloc(8 << 20, "z");
    let off = 0;
    const more = (c: Client) => {
      while (off < big.length) {
        const n = c.sock.write(big.subarray(off));
        off += n;
        if (n === 0) return; // resume on drain
      }
    };
    using c = await Client.connect(lab.port, undefined, more);
    await exchange(c, "one", 3);
    await exchange(c, "two", 6);
    await waitFor(() => lab.plane.stats().relayedConnections === 1, 1000, "the move to a relay");
    more(c);
    const got = () => sink.conns[0].data.rx.reduce((n, b) => n + b.length, 0);
    await waitFor(() => got() === 6 + big.length, 8000, "8 MiB at the backend");
    expect(Buffer.concat(sink.conns[0].data.rx).subarray(6).equals(big)).toBe(true);
    expect(lab.plane.stats().relayedConnections).toBe(0);
  }, 15_000);
});
