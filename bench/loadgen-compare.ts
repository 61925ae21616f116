/**
 * uvs bench against ab and wrk, on one local nginx (Debian's package) serving a small file on
 * loopback, started here with its own temporary config and stopped at the end. Rounds alternate
 * the tools so they share the machine's conditions; figures are medians over the rounds.
 *
 *   bun bench/loadgen-compare.ts [--rounds 3] [--requests 100000] [--concurrency 50] [--from-source] [--each]
 *                                [--sendfile] [--keep-alive-only] [--pin]
 *
 * uvs is what operators run: the single binary, built here from the working tree into the
 * temporary folder (scripts/build.ts); --from-source runs src/cli/bench.ts under bun instead
 * (start-up then costs ~15 ms more CPU: the TypeScript is transpiled at every start).
 * uvs runs with both HTTP engines: ffi (libc sockets and epoll, the default on Linux) and bun
 * (Bun.connect). Criteria (issue 5), for the default engine: uvs requests/s >= 1.0x ab and
 * >= 0.8x wrk, with and without keep-alive; uvs CPU time per request <= ab's. CPU is
 * user+system of the generator's process only (all its threads). --sendfile serves the file with
 * nginx's `sendfile on` and without tcp_nopush: the head then leaves in one segment and the body
 * in another, and a generator often reads them apart (the C fast path must follow the body). Per request it is taken two
 * ways: over the whole run of n (start-up included: a Bun binary's ~20 ms against ab's ~4 ms
 * weigh 0.2 µs per request at n = 100,000), and beyond start-up, from a second run of n/10:
 * (CPU(n) - CPU(n/10)) / (0.9 n), the figure the criterion uses. Start-up is printed apart.
 *
 * --pin runs nginx on CPU 0 and every generator on CPU 1 (taskset), so the back end and the tool
 * under test do not take CPU from each other: when nginx is then ~100 % busy under every tool,
 * each tool drove the back end as hard as it can go and the requests/s ratio is ~1.0 by
 * construction; CPU per request is then the generator's own cost, free of scheduling noise.
 * Odd rounds run the tools in reverse order (ABBA), so a drift of the host within a round weighs
 * on both sides of a paired ratio alike.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processCpuMs } from "./proc-cpu.ts";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg("rounds", 3);
const N = arg("requests", 100000);
const C = arg("concurrency", 50);
const FROM_SOURCE = process.argv.includes("--from-source");
/** --each: print every run, not only the medians. */
const EACH = process.argv.includes("--each");
const SENDFILE = process.argv.includes("--sendfile");
const MODES = process.argv.includes("--keep-alive-only") ? [true] : [false, true];
const PIN = process.argv.includes("--pin");
/** Where the back end and the generators run with --pin (taskset execs, so pids stay). */
const onCpu = (cpu: number): string[] => (PIN ? ["taskset", "-c", String(cpu)] : []);
const root = join(import.meta.dir, "..");

interface Sample {
  rps: number;
  /** CPU per request over the whole run, start-up included (µs). */
  cpuUsPerReq: number;
  /** CPU per request beyond start-up: (CPU(n) - CPU(n/10)) / (n - n/10), µs. */
  marginalUs: number;
  /** CPU of start-up and the end: CPU(n/10) - marginal * n/10, ms. */
  fixedMs: number;
  /** The share of one CPU nginx's worker used during the run (1 = the back end was the limit). */
  backendBusy: number;
  /** The share of one CPU the generator used during the run (its user+system over wall time). */
  toolBusy: number;
}

interface Measured {
  rps: number;
  cpuUs: number;
  n: number;
  backendBusy: number;
  toolBusy: number;
}

/** nginx's worker process (the master's one child), whose CPU shows whether it was the limit. */
let backendPid = 0;

/** CPU time of the back end's worker so far, in seconds, or NaN. */
function backendCpuS(): number {
  try {
    const { user, sys } = processCpuMs(backendPid);
    return (user + sys) / 1000;
  } catch {
    return Number.NaN;
  }
}

function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = l.port;
  l.stop(true);
  return p;
}

async function startNginx(): Promise<{ url: string; dir: string; stop: () => Promise<void> }> {
  const nginx = Bun.which("nginx") ?? "/usr/sbin/nginx";
  const dir = mkdtempSync(join(tmpdir(), "uvs-loadgen-"));
  const port = freePort();
  writeFileSync(join(dir, "index.html"), "<html><body>uvs bench</body></html>\n");
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${dir}/${t};`);
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1;\ndaemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\n` +
      "events { worker_connections 4096; }\n" +
      `http {\n  access_log off;\n  ${temp.join(" ")}\n  keepalive_requests 10000000;\n` +
      (SENDFILE ? "  sendfile on;\n" : "") +
      `  server { listen 127.0.0.1:${port} backlog=4096; root ${dir}; }\n}\n`,
  );
  const proc = Bun.spawn([...onCpu(0), nginx, "-c", join(dir, "nginx.conf"), "-p", dir], {
    stdout: "ignore",
    stderr: "pipe",
  });
  for (let i = 0; i < 50; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/index.html`);
      if (r.ok) break;
    } catch {
      await Bun.sleep(100);
    }
  }
  try {
    backendPid = Number(
      readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, "utf8").trim().split(" ")[0],
    );
  } catch {
    backendPid = 0;
  }
  return {
    url: `http://127.0.0.1:${port}/index.html`,
    dir,
    stop: async () => {
      proc.kill("SIGQUIT");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function measure(
  cmd: string[],
  parse: (out: string) => number,
  count: (out: string) => number,
): Promise<Measured> {
  const b0 = backendCpuS();
  const t0 = performance.now();
  const p = Bun.spawn([...onCpu(1), ...cmd], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  const wallS = (performance.now() - t0) / 1000;
  const backendBusy = (backendCpuS() - b0) / wallS;
  const ru = p.resourceUsage();
  const cpuUs = ru ? Number(ru.cpuTime.user + ru.cpuTime.system) : Number.NaN;
  return { rps: parse(out), cpuUs, n: count(out), backendBusy, toolBusy: cpuUs / 1e6 / wallS };
}

/**
 * A tool with a request count: a run of n (requests/s, CPU) and one of n/10, whose difference
 * is the CPU per request without start-up (which a one-off cost would otherwise spread over n).
 */
async function measureCounted(cmd: (n: number) => string[]): Promise<Sample> {
  const full = await measure(cmd(N), abRps, abCount);
  const short = await measure(cmd(Math.round(N / 10)), abRps, abCount);
  const marginalUs = (full.cpuUs - short.cpuUs) / (full.n - short.n);
  return {
    rps: full.rps,
    cpuUsPerReq: full.cpuUs / full.n,
    marginalUs,
    fixedMs: (short.cpuUs - marginalUs * short.n) / 1000,
    backendBusy: full.backendBusy,
    toolBusy: full.toolBusy,
  };
}

const abRps = (out: string) => Number(/Requests per second:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
const abCount = (out: string) => Number(/Complete requests:\s+(\d+)/.exec(out)?.[1] ?? Number.NaN);
const wrkRps = (out: string) => Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);

/** The command that is `uvs bench`: the binary built from this tree, or the source under bun. */
async function uvsBench(dir: string): Promise<string[]> {
  if (!FROM_SOURCE) {
    const { buildBinary } = await import("../scripts/build.ts");
    return [await buildBinary({ outfile: join(dir, "uvs") }), "bench"];
  }
  // An entry file (bun -e would take the ab options as its own).
  const f = join(dir, "uvs-bench.ts");
  const main = JSON.stringify(join(root, "src/cli/bench.ts"));
  writeFileSync(
    f,
    `const { runBenchCli } = await import(${main});\nprocess.exit(await runBenchCli(process.argv.slice(2)));\n`,
  );
  return [process.execPath, f];
}

function tools(url: string, ka: boolean, uvs: string[]): Record<string, () => Promise<Sample>> {
  const k = ka ? ["-k"] : [];
  const nc = (n: number) => ["-n", String(n), "-c", String(C)];
  return {
    ab: () => measureCounted((n) => ["ab", "-q", ...k, ...nc(n), url]),
    "uvs-ffi": () => measureCounted((n) => [...uvs, "-q", "--engine", "ffi", ...k, ...nc(n), url]),
    "uvs-bun": () => measureCounted((n) => [...uvs, "-q", "--engine", "bun", ...k, ...nc(n), url]),
    wrk: async () => {
      const m = await measure(
        [
          "wrk",
          "-t",
          PIN ? "1" : "2",
          "-c",
          String(C),
          "-d",
          "3s",
          ...(ka ? [] : ["-H", "Connection: close"]),
          url,
        ],
        wrkRps,
        (out) => Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN),
      );
      // A run of fixed duration: no short run, and CPU per request is the whole run's.
      return {
        rps: m.rps,
        cpuUsPerReq: m.cpuUs / m.n,
        marginalUs: Number.NaN,
        fixedMs: Number.NaN,
        backendBusy: m.backendBusy,
        toolBusy: m.toolBusy,
      };
    },
  };
}

/** Alternated in every round, so the tools share the machine's conditions. */
const TOOLS = ["uvs-ffi", "ab", "uvs-bun", "wrk"];
const DEFAULT_ENGINE = process.platform === "linux" ? "ffi" : "bun";

const pct = (f: number): string => (Number.isNaN(f) ? "-" : `${Math.round(f * 100)} %`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<number> {
  for (const t of ["ab", "wrk"])
    if (!Bun.which(t)) {
      console.error(`${t} is not installed (Debian: apache2-utils, wrk)`);
      return 2;
    }
  const ng = await startNginx();
  let ok = true;
  try {
    const uvs = await uvsBench(ng.dir);
    console.log(
      `uvs bench: ${FROM_SOURCE ? "src/cli/bench.ts under bun" : "the compiled binary (scripts/build.ts)"}`,
    );
    console.log(
      `target: nginx, 1 worker${SENDFILE ? ", sendfile on" : ""}${PIN ? ", on CPU 0, generators on CPU 1" : ""}, ${ng.url}; -n ${N} -c ${C}; ${ROUNDS} rounds, medians\n`,
    );
    console.log(
      "CPU µs/request: over the whole run (start-up included), and beyond start-up (runs of n and n/10)",
    );
    console.log("Rows: medians over the rounds. Ratios: medians of the ratios within each round.");
    console.log(
      "nginx busy: the share of one CPU nginx's one worker used during the run (near 100 %: it was the limit)",
    );
    console.log("tool busy: the same for the generator (its user+system time over the run's wall time)");
    console.log(
      "mode        tool      requests/s   CPU µs/req whole  beyond start-up   start-up CPU ms   nginx busy   tool busy",
    );
    for (const ka of MODES) {
      const t = tools(ng.url, ka, uvs);
      const got: Record<string, Sample[]> = { ab: [], "uvs-ffi": [], "uvs-bun": [], wrk: [] };
      for (let r = 0; r < ROUNDS; r++)
        for (const name of r % 2 ? [...TOOLS].reverse() : TOOLS) {
          const x = await t[name]();
          got[name].push(x);
          if (EACH)
            console.log(
              `  round ${r + 1} ${name}: ${x.rps.toFixed(0)} requests/s, ${x.cpuUsPerReq.toFixed(2)} µs/request, nginx ${pct(x.backendBusy)}, ${name} ${pct(x.toolBusy)}`,
            );
        }
      const m: Record<string, Sample> = {};
      for (const name of ["ab", "uvs-ffi", "uvs-bun", "wrk"]) {
        const pick = (f: (s: Sample) => number) => median(got[name].map(f));
        m[name] = {
          rps: pick((s) => s.rps),
          cpuUsPerReq: pick((s) => s.cpuUsPerReq),
          marginalUs: pick((s) => s.marginalUs),
          fixedMs: pick((s) => s.fixedMs),
          backendBusy: pick((s) => s.backendBusy),
          toolBusy: pick((s) => s.toolBusy),
        };
        const mode = ka ? "keep-alive" : "close";
        const x = m[name];
        const opt = (v: number, d: number) => (Number.isNaN(v) ? "-" : v.toFixed(d));
        console.log(
          `${mode.padEnd(12)}${name.padEnd(9)}${x.rps.toFixed(0).padStart(11)}   ${x.cpuUsPerReq.toFixed(2).padStart(16)}  ${opt(x.marginalUs, 2).padStart(15)}   ${opt(x.fixedMs, 1).padStart(15)}   ${pct(x.backendBusy).padStart(10)}   ${pct(x.toolBusy).padStart(9)}`,
        );
      }
      for (const engine of ["ffi", "bun"]) {
        // Ratios within each round (the tools ran one after another), then their median: the
        // machine's slow drifts (other work on the host) cancel out of a paired ratio.
        const us = got[`uvs-${engine}`];
        const paired = (f: (u: Sample, other: Sample) => number, other: string) =>
          median(us.map((u, r) => f(u, got[other][r])));
        const vsAb = paired((u, a) => u.rps / a.rps, "ab");
        const vsWrk = paired((u, w) => u.rps / w.rps, "wrk");
        const cpu = paired((u, a) => u.marginalUs / a.marginalUs, "ab");
        const whole = paired((u, a) => u.cpuUsPerReq / a.cpuUsPerReq, "ab");
        const pass = vsAb >= 1.0 && vsWrk >= 0.8 && cpu <= 1.0;
        if (engine === DEFAULT_ENGINE) ok &&= pass;
        const tag = engine === DEFAULT_ENGINE ? "(default)" : "";
        console.log(
          `  uvs ${engine}${tag}: /ab requests/s ${vsAb.toFixed(2)} (>= 1.00), /wrk ${vsWrk.toFixed(2)} (>= 0.80), /ab CPU per request ${cpu.toFixed(2)} (<= 1.00; whole run ${whole.toFixed(2)}): ${pass ? "PASS" : "FAIL"}`,
        );
      }
      console.log("");
    }
  } finally {
    await ng.stop();
  }
  return ok ? 0 : 1;
}

process.exit(await main());
