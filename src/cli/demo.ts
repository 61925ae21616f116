/**
 * `uvs demo`: the daemon on loopback with the built-in rules (rules/demo.conf, embedded in the
 * binary), two built-in back ends, and the live ipvsadm table. Runs until Ctrl-C (or --duration).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import demoRules from "../../rules/demo.conf" with { type: "text" };
import { Daemon } from "../daemon/daemon.ts";
import { createLogger } from "../daemon/log.ts";
import { createMemoryBackend } from "../director/offline-backend.ts";
import { directorToSnapshot } from "../director/snapshot-io.ts";
import { startBackend } from "./backend.ts";
import { runIpvsadm } from "./ipvsadm/run.ts";

export const DEMO_USAGE = "usage: uvs demo [--vip-port P] [--backend-ports A,B] [--duration SECONDS]\n";

interface DemoOptions {
  vipPort: number;
  backendPorts: [number, number];
  durationMs: number | null;
}

function parseDemoArgs(args: string[]): DemoOptions | string {
  const o: DemoOptions = { vipPort: 8080, backendPorts: [9001, 9002], durationMs: null };
  const port = (v: string | undefined) => (v && /^\d{1,5}$/.test(v) && Number(v) <= 65535 ? Number(v) : null);
  for (let i = 0; i < args.length; i++) {
    const [k, inline] = args[i].split("=", 2) as [string, string | undefined];
    const v = inline ?? args[++i];
    if (k === "--vip-port") {
      const p = port(v);
      if (p === null) return `uvs demo: --vip-port: not a port: ${JSON.stringify(v)}\n`;
      o.vipPort = p;
    } else if (k === "--backend-ports") {
      const ps = (v ?? "").split(",").map(port);
      if (ps.length !== 2 || ps.includes(null)) return "uvs demo: --backend-ports: expected two ports, A,B\n";
      o.backendPorts = ps as [number, number];
    } else if (k === "--duration") {
      if (!v || !/^\d+(\.\d+)?$/.test(v)) return "uvs demo: --duration: expected seconds\n";
      o.durationMs = Number(v) * 1000;
    } else return `uvs demo: unknown option ${JSON.stringify(k)}\n${DEMO_USAGE}`;
  }
  return o;
}

/** The embedded rules with the demo's ports. */
export function demoRulesText(o: DemoOptions): string {
  return demoRules
    .replace("127.0.0.1 8080", `127.0.0.1 ${o.vipPort}`)
    .replace("127.0.0.1 9001", `127.0.0.1 ${o.backendPorts[0]}`)
    .replace("127.0.0.1 9002", `127.0.0.1 ${o.backendPorts[1]}`);
}

async function table(daemon: Daemon): Promise<string> {
  const backend = createMemoryBackend(directorToSnapshot(daemon.director));
  const io = { argv0: "ipvsadm", readStdin: async () => "", openBackend: async () => backend };
  return (await runIpvsadm(["-Ln", "--stats"], io)).stdout + (await runIpvsadm(["-Ln"], io)).stdout;
}

export async function runDemo(args: string[]): Promise<number> {
  const o = parseDemoArgs(args);
  if (typeof o === "string") {
    process.stderr.write(o);
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), "uvs-demo-"));
  const rules = join(dir, "demo.conf");
  const control = join(dir, "uvs.sock");
  writeFileSync(rules, demoRulesText(o));
  const servers: ReturnType<typeof startBackend>[] = [];
  let daemon: Daemon | null = null;
  const cleanup = async () => {
    await daemon?.stop();
    for (const s of servers) s.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    servers.push(startBackend({ host: "127.0.0.1", port: o.backendPorts[0], name: "backend-a" }));
    servers.push(startBackend({ host: "127.0.0.1", port: o.backendPorts[1], name: "backend-b" }));
    daemon = await Daemon.start({ rules, control, drainMs: 1000, log: createLogger({ quiet: true }) });
  } catch (e) {
    process.stderr.write(
      `uvs demo: ${(e as Error).message}\n(pick other ports with ${DEMO_USAGE.slice(7).trim()})\n`,
    );
    await cleanup();
    return 1;
  }
  process.stdout.write(
    `uvs demo: http://127.0.0.1:${o.vipPort}/ is balanced (rr) over backend-a (:${o.backendPorts[0]}) and backend-b (:${o.backendPorts[1]}).\n` +
      `  try: curl http://127.0.0.1:${o.vipPort}/   ·   uvs --control ${control} -Lnc   ·   Ctrl-C to stop\n\n`,
  );
  const tty = process.stdout.isTTY;
  process.stdout.write(await table(daemon));
  const d = daemon;
  const refresh = tty
    ? setInterval(async () => process.stdout.write(`\x1b[4;1H\x1b[J${await table(d)}`), 1000)
    : null;
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
    if (o.durationMs !== null) setTimeout(resolve, o.durationMs);
  });
  if (refresh) clearInterval(refresh);
  if (!tty) process.stdout.write(`\n${await table(d)}`);
  await cleanup();
  return 0;
}
