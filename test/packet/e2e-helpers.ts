/**
 * End-to-end packet plane tests: a lab from src/lab with uvs running in its director namespace,
 * torn down whatever happens. Only documentation addresses inside the lab's own namespaces.
 */
import { afterAll, beforeAll } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { type Lab, labDown, labUp } from "../../src/lab/build.ts";
import { labUnavailable, run } from "../../src/lab/netns.ts";
import { selfCommand } from "../../src/lab/self.ts";
import type { LabKind } from "../../src/lab/topology.ts";

export const SKIP_E2E = labUnavailable();

export interface Running {
  lab: Lab;
  control: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  uvs(...args: string[]): { code: number; stdout: string; stderr: string };
  stop(): Promise<void>;
}

/**
 * Build the lab, start `uvs run --dataplane packet` in its director (with `extra` arguments), wait
 * for the control socket.
 */
export async function startLab(
  kind: LabKind,
  prefix: string,
  interfaces: string[],
  extra: string[] = [],
): Promise<Running> {
  await labDown(prefix);
  const lab = await labUp(kind, { prefix });
  const control = `/tmp/${prefix}.sock`;
  const argv = [...selfCommand(), "run", "--dataplane", "packet", "--no-watch", "--rules", lab.rulesPath];
  for (const i of interfaces) argv.push("--interface", i);
  argv.push(...extra);
  const proc = lab.spawn("director", [...argv, "--control", control]);
  const uvs = (...args: string[]) =>
    run([...selfCommand(), ...args], { ...process.env, UVS_CONTROL: control } as Record<string, string>);
  const r: Running = {
    lab,
    control,
    proc,
    uvs,
    async stop() {
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(3000)]);
      proc.kill("SIGKILL");
      await labDown(prefix);
    },
  };
  const deadline = Date.now() + 10_000;
  while (!existsSync(control) || uvs("ipvsadm", "-Ln").code !== 0) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      const err = await new Response(proc.stderr).text();
      await r.stop();
      throw new Error(`uvs run --dataplane packet did not start: ${err}`);
    }
    await Bun.sleep(100);
  }
  return r;
}

/** A test name that says why it is skipped where labs cannot be built. */
export function e2eName(name: string): string {
  return SKIP_E2E ? `${name} (skipped: ${SKIP_E2E})` : name;
}

/**
 * One lab with uvs in its director for the whole file: built before the first test, torn down
 * after the last (also when one fails). `env()` is the running lab inside a test.
 */
export function labForFile(kind: LabKind, prefix: string, interfaces: string[]): () => Running {
  let env: Running | undefined;
  beforeAll(async () => {
    if (!SKIP_E2E) env = await startLab(kind, prefix, interfaces);
  }, 60_000);
  afterAll(async () => {
    await env?.stop();
  }, 30_000);
  return () => {
    if (!env) throw new Error(`the ${kind} lab ${prefix} did not start`);
    return env;
  };
}

/** `curl` from the client; the body (the real server's address) or "" on failure. */
export function curl(lab: Lab, url: string): string {
  const r = lab.exec("client", ["curl", "-s", "-m", "3", url]);
  return r.code === 0 ? r.stdout.trim() : "";
}

/** Client addresses the real server's HTTP server logged (one request per line: time addr port …). */
export function loggedClients(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ")[1]);
}

/** ab from the client: complete and failed requests. */
export function ab(
  lab: Lab,
  url: string,
  n: number,
  c: number,
): { complete: number; failed: number; text: string } {
  const r = lab.exec("client", ["ab", "-q", "-s", "10", "-n", String(n), "-c", String(c), url]);
  const num = (re: RegExp) => Number(re.exec(r.stdout)?.[1] ?? -1);
  return {
    complete: num(/Complete requests:\s+(\d+)/),
    failed: num(/Failed requests:\s+(\d+)/),
    text: r.stdout + r.stderr,
  };
}
