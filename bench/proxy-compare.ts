/**
 * uvs's proxy plane against HAProxy (mode tcp) and nginx's stream module, in one run on this
 * machine (issue 3 §8). Back end: nginx serving a small page and a 1 GiB file on loopback.
 * For each path (direct, uvs, HAProxy, nginx stream): keep-alive requests/s (wrk), connection-
 * close requests/s (ab), and a 1 GiB transfer (curl); then uvs's memory per idle connection at
 * 10,000 idle concurrent connections. Ratios are uvs ÷ HAProxy. uvs runs twice, once per TCP
 * engine of its proxy plane: "uvs" is Bun's sockets, "uvs-epoll" is `--proxy-engine epoll`.
 *
 * Needs Debian's nginx, libnginx-mod-stream, haproxy, wrk, apache2-utils, curl:
 * `node_modules/.bin/bun bench/proxy-compare.ts` (SECONDS_PER_RUN, IDLE_CONNS override the defaults;
 * MEMORY=0 skips the memory part, MEMORY=only runs nothing else; ROUNDS=n runs each row n times
 * with the proxies' order rotated and prints medians and each round's figures; ROWS=keep-alive,
 * close,transfer picks rows; ONE_THREAD=1 adds the one-thread variants: the epoll engine without
 * relay threads, `--proxy-threads 0`, as "uvs-epoll-1t", and HAProxy with `nbthread 1` as
 * "haproxy-1t"). For the request rows it also prints each proxy's CPU time per request (user and
 * system time of its process, all threads, from /proc): the client, the back end and the proxy
 * share two cores, so a proxy's throughput here is its CPU per request against the CPU share the
 * scheduler gives its threads. The memory part runs last, on fresh daemons: RSS that a load run
 * grew stays grown.
 * Everything it starts is stopped at the end; it only talks to 127.0.0.1.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { processCpuMs } from "./proc-cpu.ts";

const DIR = mkdtempSync(join(tmpdir(), "uvs-cmp-"));
const MAIN = join(import.meta.dir, "../src/main.ts");
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 8);
/** The hard descriptor limit of this machine (20000 here, and no CAP_SYS_RESOURCE to raise it). */
const HARD_LIMIT = Number(Bun.spawnSync(["sh", "-c", "ulimit -Hn"]).stdout.toString().trim()) || 20000;
/** uvs holds two descriptors per proxied connection: at most (limit − slack) / 2 idle ones fit. */
const IDLE = Number(process.env.IDLE_CONNS ?? Math.min(10_000, Math.floor((HARD_LIMIT - 500) / 2)));
const MEMORY = process.env.MEMORY ?? "1";
/** Rounds per row, the proxies' order rotated each round; medians are printed. */
const ROUNDS = Math.max(1, Number(process.env.ROUNDS ?? 1));
const procs: Subprocess[] = [];
const PORT = {
  backend: 28100,
  uvs: 28101,
  haproxy: 28102,
  stream: 28103,
  uvsEpoll: 28104,
  uvsEpoll1t: 28107,
  haproxy1t: 28108,
};
const ONE_THREAD = process.env.ONE_THREAD === "1";
/** The proxies' processes by PORT key, for their CPU time. */
const pids: Partial<Record<keyof typeof PORT, number>> = {};
/** Fresh daemons for the memory part (RSS grown by a load run stays grown). */
const MEMORY_PORT = { uvs: 28105, uvsEpoll: 28106 };

function need(cmds: string[]): void {
  const missing = cmds.filter((c) => !Bun.which(c));
  if (missing.length) {
    console.error(
      `missing: ${missing.join(", ")} (apt-get install nginx libnginx-mod-stream haproxy wrk apache2-utils curl)`,
    );
    process.exit(2);
  }
}

function start(cmd: string[], name: string): Subprocess {
  const p = Bun.spawn(cmd, { stdout: "ignore", stderr: "pipe" });
  procs.push(p);
  void new Response(p.stderr)
    .text()
    .then((t) => t && process.exitCode === undefined && console.error(`[${name}] ${t.trim()}`));
  return p;
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      s.end();
      return;
    } catch {
      await Bun.sleep(50);
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

function nginxConf(): string {
  return `load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 1;
worker_rlimit_nofile ${HARD_LIMIT};
pid ${DIR}/nginx.pid;
error_log ${DIR}/nginx-error.log warn;
daemon off;
events { worker_connections ${HARD_LIMIT - 100}; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  client_body_temp_path ${DIR}/body;
  proxy_temp_path ${DIR}/proxy;
  fastcgi_temp_path ${DIR}/fcgi;
  uwsgi_temp_path ${DIR}/uwsgi;
  scgi_temp_path ${DIR}/scgi;
  server {
    listen 127.0.0.1:${PORT.backend} backlog=4096;
    root ${DIR}/www;
  }
}
stream {
  server {
    listen 127.0.0.1:${PORT.stream} backlog=4096;
    proxy_pass 127.0.0.1:${PORT.backend};
  }
}
`;
}

function haproxyConf(port: number, threads?: number): string {
  return `global
  maxconn ${Math.floor((HARD_LIMIT - 200) / 2)}${threads ? `\n  nbthread ${threads}` : ""}
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
listen cmp
  bind 127.0.0.1:${port}
  server be 127.0.0.1:${PORT.backend}
`;
}

function uvsRules(port: number): string {
  return `virtual_server 127.0.0.1 ${port} {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 ${PORT.backend} {
        weight 1
    }
}
`;
}

async function run(cmd: string[]): Promise<string> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  return out + err;
}

/** A row's figure, and how many requests it took (for CPU per request; 0 for a transfer). */
interface Measured {
  value: number;
  requests: number;
}

async function keepAlive(port: number): Promise<Measured> {
  const out = await run(["wrk", "-t1", "-c32", `-d${SECONDS}s`, `http://127.0.0.1:${port}/`]);
  return {
    value: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
  };
}

async function connClose(port: number): Promise<Measured> {
  const out = await run([
    "ab",
    "-q",
    "-t",
    String(SECONDS),
    "-n",
    "2000000",
    "-c",
    "32",
    `http://127.0.0.1:${port}/`,
  ]);
  return {
    value: Number(/Requests per second:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    requests: Number(/Complete requests:\s+(\d+)/.exec(out)?.[1] ?? 0),
  };
}

async function bulk(port: number): Promise<Measured> {
  const out = await run([
    "curl",
    "-s",
    "-o",
    "/dev/null",
    "-w",
    "%{http_code} %{size_download} %{time_total}",
    `http://127.0.0.1:${port}/1g`,
  ]);
  const [code, size, time] = out.trim().split(" ").map(Number);
  if (code !== 200 || size !== 1 << 30) throw new Error(`1 GiB transfer through ${port} failed: ${out}`);
  return { value: (size * 8) / time / 1e9, requests: 0 }; // Gbit/s
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0);
}

/** Open `n` idle connections through uvs from a child process; returns a function that closes them. */
async function idleConnections(port: number, n: number): Promise<() => void> {
  const script = join(DIR, "idle.ts");
  writeFileSync(
    script,
    `const socks=[];for(let i=0;i<${n};i++){try{socks.push(await Bun.connect({hostname:"127.0.0.1",port:${port},socket:{data(){},error(){}}}))}catch(e){console.error(String(e));break}}
console.log("open",socks.length);await new Promise(()=>{});`,
  );
  const p = Bun.spawn([process.execPath, script], { stdout: "pipe" });
  procs.push(p);
  const reader = p.stdout.getReader();
  let out = "";
  while (!out.includes("open")) out += new TextDecoder().decode((await reader.read()).value);
  console.log(`  ${out.trim()} idle connections`);
  return () => p.kill();
}

async function main(): Promise<void> {
  need(["nginx", "haproxy", "wrk", "ab", "curl"]);
  for (const d of ["www", "body", "proxy", "fcgi", "uwsgi", "scgi"])
    require("node:fs").mkdirSync(join(DIR, d));
  require("node:fs").chmodSync(DIR, 0o755); // nginx's workers run as www-data
  writeFileSync(join(DIR, "www/index.html"), `${"x".repeat(100)}\n`);
  Bun.spawnSync(["truncate", "-s", "1G", join(DIR, "www/1g")]);
  writeFileSync(join(DIR, "nginx.conf"), nginxConf());
  writeFileSync(join(DIR, "haproxy.cfg"), haproxyConf(PORT.haproxy));
  writeFileSync(join(DIR, "haproxy-1t.cfg"), haproxyConf(PORT.haproxy1t, 1));
  start(["nginx", "-c", join(DIR, "nginx.conf"), "-p", DIR], "nginx");
  await waitPort(PORT.backend);
  console.log(
    `proxy comparison, ${SECONDS} s per run, ${ROUNDS} round(s), bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, load ${loadavg()}`,
  );
  if (MEMORY !== "only") await throughput();
  if (MEMORY !== "0") await memory();
}

/** A uvs daemon proxying `port` to the backend with the given TCP engine. */
function startUvs(name: string, port: number, engine: "bun" | "epoll", extra: string[] = []): Subprocess {
  writeFileSync(join(DIR, `${name}.conf`), uvsRules(port));
  const args = ["run", "--rules", join(DIR, `${name}.conf`), "--control", join(DIR, `${name}.sock`)];
  return start([process.execPath, MAIN, ...args, "--proxy-engine", engine, ...extra], name);
}

async function throughput(): Promise<void> {
  const oneThread = ["uvsEpoll1t", "haproxy1t"];
  pids.haproxy = start(["haproxy", "-f", join(DIR, "haproxy.cfg")], "haproxy").pid;
  pids.uvs = startUvs("uvs", PORT.uvs, "bun").pid;
  pids.uvsEpoll = startUvs("uvs-epoll", PORT.uvsEpoll, "epoll").pid;
  if (ONE_THREAD) {
    pids.uvsEpoll1t = startUvs("uvs-epoll-1t", PORT.uvsEpoll1t, "epoll", ["--proxy-threads", "0"]).pid;
    pids.haproxy1t = start(["haproxy", "-f", join(DIR, "haproxy-1t.cfg")], "haproxy-1t").pid;
  }
  for (const [k, p] of Object.entries(PORT)) if (ONE_THREAD || !oneThread.includes(k)) await waitPort(p);
  const rows: [string, (p: number) => Promise<Measured>, string, string][] = [
    ["keep-alive (wrk -c32)", keepAlive, "req/s", "keep-alive"],
    ["connection close (ab -c32)", connClose, "req/s", "close"],
    ["1 GiB transfer (curl)", bulk, "Gbit/s", "transfer"],
  ];
  const picked = (process.env.ROWS ?? "keep-alive,close,transfer").split(",");
  for (const [name, fn, unit, key] of rows) {
    if (!picked.includes(key)) continue;
    const r: Record<string, number> = {};
    // Each round runs the proxies in a rotated order (position in the sequence moved results by
    // up to 20 % on this machine); each figure is the median over the rounds.
    const runs: Record<string, number[]> = {};
    /** CPU µs per request of each proxy's process, per round: [user, system]. */
    const cpu: Record<string, [number, number][]> = {};
    const proxies: (keyof typeof PORT)[] = ["uvs", "uvsEpoll", "haproxy", "stream"];
    if (ONE_THREAD) proxies.push("uvsEpoll1t", "haproxy1t");
    for (let round = 0; round < ROUNDS; round++) {
      const k0 = round % proxies.length;
      const order = ["backend", ...proxies.slice(k0), ...proxies.slice(0, k0)] as const;
      for (const k of order) {
        const pid = pids[k];
        const before = pid ? processCpuMs(pid) : null;
        const m = await fn(PORT[k]);
        runs[k] = [...(runs[k] ?? []), m.value];
        if (pid && before && m.requests > 0) {
          const after = processCpuMs(pid);
          const per = (ms: number) => (ms * 1000) / m.requests;
          cpu[k] = [...(cpu[k] ?? []), [per(after.user - before.user), per(after.sys - before.sys)]];
        }
      }
    }
    for (const [k, v] of Object.entries(runs)) r[k] = median(v);
    const f = (v: number) => (unit === "Gbit/s" ? v.toFixed(2) : Math.round(v).toString());
    console.log(
      `${name.padEnd(28)} direct ${f(r.backend)}  uvs ${f(r.uvs)}  uvs-epoll ${f(r.uvsEpoll)}  haproxy ${f(r.haproxy)}  nginx-stream ${f(r.stream)} ${unit}` +
        `   uvs/haproxy ${(r.uvs / r.haproxy).toFixed(2)}  uvs-epoll/haproxy ${(r.uvsEpoll / r.haproxy).toFixed(2)}  uvs-epoll/nginx ${(r.uvsEpoll / r.stream).toFixed(2)}`,
    );
    if (ROUNDS > 1) {
      // The ratio within each round (the runs were minutes apart at most), then the median of
      // those: the host's slow drifts cancel out of a paired ratio better than out of medians.
      const per = runs.uvsEpoll.map((v, i) => v / runs.haproxy[i]);
      const perBun = runs.uvs.map((v, i) => v / runs.haproxy[i]);
      console.log(
        `${"".padEnd(28)} paired: uvs-epoll/haproxy ${median(per).toFixed(2)} (rounds ${per.map((x) => x.toFixed(2)).join(" ")})  uvs/haproxy ${median(perBun).toFixed(2)}`,
      );
      const each = (k: string) => runs[k].map(f).join(" ");
      console.log(
        `${"".padEnd(28)} each round: uvs-epoll ${each("uvsEpoll")}; haproxy ${each("haproxy")}; uvs ${each("uvs")}; nginx-stream ${each("stream")}`,
      );
      if (ONE_THREAD) {
        const one = runs.uvsEpoll1t.map((v, i) => v / runs.haproxy[i]);
        const ha1 = runs.uvsEpoll1t.map((v, i) => v / runs.haproxy1t[i]);
        console.log(
          `${"".padEnd(28)} uvs-epoll-1t (no relay threads): ${each("uvsEpoll1t")}; paired ÷ haproxy ${median(one).toFixed(2)}` +
            `; haproxy-1t (nbthread 1): ${each("haproxy1t")}; uvs-epoll-1t ÷ haproxy-1t ${median(ha1).toFixed(2)}`,
        );
      }
    }
    if (Object.keys(cpu).length > 0) console.log(`${"".padEnd(28)} ${cpuLine(cpu)}`);
  }
}

async function memory(): Promise<void> {
  for (const [name, port, engine] of [
    ["uvs", MEMORY_PORT.uvs, "bun"],
    ["uvs-epoll", MEMORY_PORT.uvsEpoll, "epoll"],
  ] as const) {
    const p = startUvs(`${name}-memory`, port, engine);
    await waitPort(port);
    await Bun.sleep(1000);
    const before = rssKiB(p.pid);
    const close = await idleConnections(port, IDLE);
    await Bun.sleep(2000);
    const after = rssKiB(p.pid);
    console.log(
      `memory: ${name} RSS ${before} KiB idle → ${after} KiB with ${IDLE} idle connections: ${(((after - before) * 1024) / IDLE).toFixed(0)} bytes per connection (target ≤ 2048)`,
    );
    close();
    p.kill();
    await p.exited;
  }
}

/** "CPU µs/request (user+system): uvs-epoll 60.1 (9.8+50.3) …", medians over the rounds. */
function cpuLine(cpu: Record<string, [number, number][]>): string {
  const name: Record<string, string> = {
    uvs: "uvs",
    uvsEpoll: "uvs-epoll",
    haproxy: "haproxy",
    uvsEpoll1t: "uvs-epoll-1t",
    haproxy1t: "haproxy-1t",
  };
  const parts = Object.entries(cpu).map(([k, v]) => {
    const u = median(v.map((x) => x[0]));
    const s = median(v.map((x) => x[1]));
    return `${name[k] ?? k} ${(u + s).toFixed(1)} (${u.toFixed(1)}+${s.toFixed(1)})`;
  });
  return `CPU µs/request of the proxy's process (user+system), medians: ${parts.join("  ")}`;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function loadavg(): string {
  return require("node:fs").readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

try {
  await main();
} finally {
  for (const p of procs) p.kill();
  await Bun.sleep(300);
  rmSync(DIR, { recursive: true, force: true });
}
