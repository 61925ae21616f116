/**
 * Quick throughput check of the proxy plane on loopback, through the proxy vs direct to the
 * backend: keep-alive request/reply rate, connection rate (one request per connection) and bulk
 * MB/s. The proxy runs on the main thread; backends and load generators run in a Worker (this same
 * file), so the proxy has an event loop of its own, as in the daemon. Run by hand:
 * `node_modules/.bin/bun bench/proxy.bench.ts` (SECONDS=3 CONNS=32 BULK_MIB=1024 to change).
 * The full HAProxy/nginx comparison lives elsewhere; this only prints ratios to direct.
 */
import type { Socket } from "bun";
import { ProxyPlane } from "../src/dataplane/proxy/plane.ts";
import { Director } from "../src/director/director.ts";
import { parseIp } from "../src/model/addr.ts";
import { type ServiceId, serviceKey } from "../src/model/service.ts";
import { destConfig, svcConfig } from "../test/helpers/director.ts";

const LO = "127.0.0.1";
const SECONDS = Number(process.env.SECONDS ?? 3);
const CONNS = Number(process.env.CONNS ?? 32);
const BULK = Number(process.env.BULK_MIB ?? 1024) * 1024 * 1024;
const MSG = new Uint8Array(64).fill(0x61);

interface Ports {
  echo: number;
  close: number;
  bulk: number;
}

// ---- worker side: backends and load generators ---------------------------------------------

function startBackends(): Ports {
  const echo = Bun.listen({ hostname: LO, port: 0, socket: { data: (s, d) => void s.write(d) } });
  const close = Bun.listen({
    hostname: LO,
    port: 0,
    socket: {
      data: (s) => {
        s.write("HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok");
        s.end();
      },
    },
  });
  const chunk = new Uint8Array(256 * 1024).fill(0x62);
  const pump = (s: Socket<{ sent: number }>) => {
    while (s.data.sent < BULK) {
      const len = Math.min(chunk.length, BULK - s.data.sent);
      const n = s.write(chunk, 0, len);
      s.data.sent += Math.max(n, 0);
      if (n < len) return;
    }
    s.end();
  };
  const bulk = Bun.listen<{ sent: number }>({
    hostname: LO,
    port: 0,
    socket: {
      open: (s) => {
        s.data = { sent: 0 };
        pump(s);
      },
      drain: pump,
      data: () => {},
    },
  });
  return { echo: echo.port, close: close.port, bulk: bulk.port };
}

/** CONNS connections each doing 64-byte request/reply round trips for SECONDS: replies/s. */
async function pingPong(port: number): Promise<number> {
  let count = 0;
  let stop = false;
  const socks: Socket<{ got: number }>[] = [];
  for (let i = 0; i < CONNS; i++) {
    const s = await Bun.connect<{ got: number }>({
      hostname: LO,
      port,
      data: { got: 0 },
      socket: {
        data(s, d) {
          s.data.got += d.length;
          if (s.data.got < MSG.length) return;
          s.data.got = 0;
          count++;
          if (!stop) s.write(MSG);
        },
      },
    });
    socks.push(s);
  }
  const t0 = performance.now();
  for (const s of socks) s.write(MSG);
  await Bun.sleep(SECONDS * 1000);
  stop = true;
  const rate = count / ((performance.now() - t0) / 1000);
  for (const s of socks) s.end();
  return rate;
}

/** CONNS loops of connect, one request, wait for close: connections/s. */
async function connRate(port: number): Promise<number> {
  let count = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      Bun.connect({
        hostname: LO,
        port,
        socket: {
          open: (s) => void s.write("GET / HTTP/1.0\r\n\r\n"),
          data: () => {},
          close: () => resolve(),
          connectError: () => resolve(),
        },
      }).catch(() => resolve());
    });
  const loop = async () => {
    while (performance.now() < deadline) {
      await one();
      count++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNS }, loop));
  return count / ((performance.now() - t0) / 1000);
}

/** One connection receiving BULK bytes: MB/s. */
async function bulk(port: number): Promise<number> {
  let got = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    Bun.connect({
      hostname: LO,
      port,
      socket: {
        data: (_s, d) => {
          got += d.length;
        },
        close: () => resolve(),
        connectError: (_s, e) => reject(e),
      },
    }).catch(reject);
  });
  if (got !== BULK) throw new Error(`bulk: got ${got} of ${BULK} bytes`);
  return got / 1e6 / ((performance.now() - t0) / 1000);
}

async function runLoads(direct: Ports, proxied: Ports) {
  const out: Record<string, { direct: number; proxy: number }> = {};
  out["keep-alive req/s"] = { direct: await pingPong(direct.echo), proxy: await pingPong(proxied.echo) };
  out["conn/s (1 req each)"] = { direct: await connRate(direct.close), proxy: await connRate(proxied.close) };
  out["bulk MB/s"] = { direct: await bulk(direct.bulk), proxy: await bulk(proxied.bulk) };
  return out;
}

// ---- main side: director + proxy plane ------------------------------------------------------

function freePort(): number {
  const l = Bun.listen({ hostname: LO, port: 0, socket: { data() {} } });
  const p = l.port;
  l.stop(true);
  return p;
}

async function startProxy(backends: Ports): Promise<{ ports: Ports; plane: ProxyPlane; director: Director }> {
  const director = new Director({}, performance.now());
  const plane = new ProxyPlane(director, {
    log: (e) => {
      if (e.type !== "listening" && e.type !== "listener-closed") console.error("proxy:", JSON.stringify(e));
    },
  });
  const addr = parseIp(LO)!;
  const ports = { echo: freePort(), close: freePort(), bulk: freePort() };
  const specs = (Object.keys(ports) as (keyof Ports)[]).map((k) => {
    const id: ServiceId = { kind: "addr", af: "inet", protocol: "tcp", addr, port: ports[k] };
    director.apply({ op: "add-service", service: id, config: svcConfig() });
    director.apply({ op: "add-server", service: id, dest: destConfig(LO, backends[k]) });
    return {
      key: serviceKey(id),
      listen: [{ addr, port: ports[k], protocol: "tcp" as const }],
      proxyProtocol: new Map(),
    };
  });
  await plane.sync(specs);
  return { ports, plane, director };
}

if (Bun.isMainThread) {
  const worker = new Worker(new URL(import.meta.url).href);
  const backends = await new Promise<Ports>((resolve) => {
    worker.onmessage = (e) => resolve(e.data as Ports);
    worker.postMessage({ cmd: "backends" });
  });
  const { ports, plane, director } = await startProxy(backends);
  const clock = setInterval(() => director.advance(performance.now()), 1000); // as the daemon does
  const results = await new Promise<Record<string, { direct: number; proxy: number }>>((resolve) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.postMessage({ cmd: "run", direct: backends, proxied: ports });
  });
  clearInterval(clock);
  console.log(
    `proxy plane vs direct, loopback, ${CONNS} connections, ${SECONDS} s per run, bulk ${BULK >> 20} MiB`,
  );
  for (const [name, r] of Object.entries(results)) {
    const ratio = (r.proxy / r.direct).toFixed(2);
    console.log(
      `${name.padEnd(22)} direct ${r.direct.toFixed(0).padStart(9)}  proxy ${r.proxy.toFixed(0).padStart(9)}  ${ratio}×`,
    );
  }
  const st = plane.stats();
  console.log(
    `accepted ${st.accepted}, connect failures ${JSON.stringify(st.connectFailures)}, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
  );
  await plane.close();
  worker.terminate();
} else {
  const self = globalThis as unknown as Worker;
  self.onmessage = async (e: MessageEvent) => {
    if (e.data.cmd === "backends") postMessage(startBackends());
    else postMessage(await runLoads(e.data.direct, e.data.proxied));
  };
}
