/**
 * Run `uvs run` as a subprocess with a rules file and control socket in a fresh temp dir, plus
 * small real servers on loopback. Everything is torn down by `stop()`, even when a test fails.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { runIpvsadm } from "../../src/cli/ipvsadm/run.ts";
import { openDaemonBackend } from "../../src/control/backend.ts";
import { connectControl } from "../../src/control/client.ts";
import { collectOutput, eventually } from "./proc.ts";

export const MAIN = join(import.meta.dir, "../../src/main.ts");

export async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = l.port;
  l.stop(true);
  return p;
}

export interface RunningDaemon {
  dir: string;
  rules: string;
  control: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** ipvsadm against this daemon, in-process through its control socket. */
  ipvsadm(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }>;
  output(): string;
  stop(): Promise<number>;
}

export async function startDaemon(
  rulesText: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<RunningDaemon> {
  const dir = mkdtempSync(join(tmpdir(), "uvs-daemon-"));
  const rules = join(dir, "uvs.conf");
  const control = join(dir, "uvs.sock");
  writeFileSync(rules, rulesText);
  const proc = Bun.spawn(
    [process.execPath, MAIN, "run", "--rules", rules, "--control", control, "--drain", "2", ...extraArgs],
    {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, ...env },
    },
  );
  const out = collectOutput(proc);
  const d: RunningDaemon = {
    dir,
    rules,
    control,
    proc,
    output: out,
    async ipvsadm(...args) {
      return runIpvsadm(args, {
        argv0: "ipvsadm",
        readStdin: async () => "",
        openBackend: () => openDaemonBackend(control),
      });
    },
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      const code = await proc.exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) break;
    try {
      const c = await connectControl(control);
      await c.call("ping", {});
      c.close();
      return d;
    } catch {
      await Bun.sleep(50);
    }
  }
  await d.stop();
  throw new Error(`daemon did not start:\n${out()}`);
}

/** An HTTP/1.0-style request on a fresh TCP connection; resolves with the whole response text. */
export async function httpGet(port: number, host = "127.0.0.1", path = "/"): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`no answer from ${host}:${port}`)), 5000);
    Bun.connect({
      hostname: host,
      port,
      socket: {
        open(s) {
          s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        },
        data(_s, d) {
          buf += new TextDecoder().decode(d);
        },
        close() {
          clearTimeout(timer);
          resolve(buf);
        },
        error(_s, e) {
          clearTimeout(timer);
          reject(e);
        },
      },
    }).catch((e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** The body of a response from `uvs backend`-style servers: the server's name. */
export function bodyOf(response: string): string {
  return response.slice(response.indexOf("\r\n\r\n") + 4).trim();
}

export function namedServer(name: string, port = 0) {
  return Bun.serve({
    hostname: "127.0.0.1",
    port,
    fetch: () => new Response(`${name}\n`, { headers: { "X-Backend": name } }),
  });
}

export async function until(
  cond: () => boolean | Promise<boolean>,
  ms = 3000,
  what = "condition",
): Promise<void> {
  if (!(await eventually(cond, ms, 25))) throw new Error(`timed out waiting for ${what}`);
}

export function rulesFile(
  vipPort: number,
  backends: { port: number; weight?: number }[],
  extra = "",
  sched = "rr",
): string {
  const rs = backends
    .map((b) => `    real_server 127.0.0.1 ${b.port} {\n        weight ${b.weight ?? 1}\n    }\n`)
    .join("");
  return `# test rules\nvirtual_server 127.0.0.1 ${vipPort} {\n    lvs_sched ${sched}\n    lvs_method NAT\n    protocol TCP\n${extra}${rs}}\n`;
}
