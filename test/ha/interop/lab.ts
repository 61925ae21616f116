/**
 * An HA lab in network namespaces: a bridge in a namespace of its own, director nodes and a client
 * on it (192.0.2.0/24 only), keepalived and `uvs run` as subprocesses inside the nodes, tcpdump on
 * the bridge for adverts and gratuitous ARPs with kernel timestamps. `down()` removes everything.
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { connectControl } from "../../../src/control/client.ts";
import { collectOutput } from "../../helpers/proc.ts";

export const ROOT = join(import.meta.dir, "../../..");
const MAIN = join(ROOT, "src/main.ts");

export const hasRoot = process.getuid?.() === 0;
export const hasKeepalived = spawnSync("keepalived", ["--version"]).status === 0;
export const hasTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;
export const labSkip = !hasRoot || !hasKeepalived || !hasTcpdump;
export const labWhy = "needs root (network namespaces, raw sockets), keepalived and tcpdump";

export const VIP = "192.0.2.100";

export function ip(...a: string[]): void {
  const r = spawnSync("ip", a, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${a.join(" ")}: ${r.stderr}`);
}

/** One line of tcpdump -tt -n -e for VRRP or ARP. */
export interface WireEvent {
  t: number;
  kind: "vrrp" | "arp";
  src: string;
  dst: string;
  prio: number | null;
  line: string;
}

function parseTcpdump(line: string): WireEvent | null {
  const t = Number.parseFloat(line);
  if (!Number.isFinite(t)) return null;
  const v = / IP (\S+) > (\S+): VRRPv\d, Advertisement, .*prio (\d+)/.exec(line);
  if (v)
    return { t: t * 1000, kind: "vrrp", src: v[1], dst: v[2].replace(/:$/, ""), prio: Number(v[3]), line };
  const a = /ARP, Request who-has (\S+) .*tell (\S+),/.exec(line);
  if (a && a[1] === a[2]) return { t: t * 1000, kind: "arp", src: a[2], dst: a[1], prio: null, line };
  return null;
}

/** keepalived's state: the last "Entering X STATE" line of its log. */
export function kaState(log: string): string {
  const all = [...log.matchAll(/Entering (\w+) STATE/g)];
  return all.at(-1)?.[1].toLowerCase() ?? "none";
}

export interface Proc {
  proc: Subprocess<"ignore" | "pipe", "pipe", "pipe">;
  output(): string;
}

export class HaLab {
  readonly dir = mkdtempSync(join(tmpdir(), "uvst-ha-"));
  readonly br: string;
  private readonly nodes: string[] = [];
  private readonly procs: Subprocess[] = [];
  readonly wire: WireEvent[] = [];

  constructor(readonly tag: string) {
    this.br = `uvst-ha${tag}-br`;
  }

  ns(node: string): string {
    return `uvst-ha${this.tag}-${node}`;
  }

  /** The bridge namespace and one namespace per node, each with eth0 on the bridge. */
  up(nodes: Record<string, string>): void {
    ip("netns", "add", this.br);
    ip("-n", this.br, "link", "add", "br0", "type", "bridge");
    ip("-n", this.br, "link", "set", "br0", "up");
    for (const [node, addr] of Object.entries(nodes)) {
      const ns = this.ns(node);
      ip("netns", "add", ns);
      this.nodes.push(ns);
      ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", `p-${node}`, "netns", this.br);
      ip("-n", this.br, "link", "set", `p-${node}`, "master", "br0");
      ip("-n", this.br, "link", "set", `p-${node}`, "up");
      ip("-n", ns, "link", "set", "lo", "up");
      ip("-n", ns, "addr", "add", `${addr}/24`, "dev", "eth0");
      ip("-n", ns, "link", "set", "eth0", "up");
    }
  }

  spawn(node: string, cmd: string[], stdin: "ignore" | "pipe" = "ignore"): Proc {
    const ns = node === "br" ? this.br : this.ns(node);
    const proc = Bun.spawn(["ip", "netns", "exec", ns, ...cmd], {
      stdin,
      stdout: "pipe",
      stderr: "pipe",
      cwd: ROOT,
    });
    this.procs.push(proc);
    const out = collectOutput(proc);
    return { proc, output: out };
  }

  /** tcpdump on the bridge: VRRP and gratuitous ARP, timestamps from the kernel. */
  async capture(): Promise<void> {
    const proc = Bun.spawn(
      ["ip", "netns", "exec", this.br, "tcpdump", "-i", "br0", "-n", "-l", "-tt", "ip proto 112 or arp"],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe", cwd: ROOT },
    );
    this.procs.push(proc);
    void (async () => {
      let buf = "";
      const dec = new TextDecoder();
      for await (const chunk of proc.stdout) {
        buf += dec.decode(chunk);
        let i = buf.indexOf("\n");
        while (i >= 0) {
          const ev = parseTcpdump(buf.slice(0, i));
          if (ev) this.wire.push(ev);
          buf = buf.slice(i + 1);
          i = buf.indexOf("\n");
        }
      }
    })();
    await Bun.sleep(500); // tcpdump needs a moment before it captures
  }

  adverts(src?: string, since = 0): WireEvent[] {
    return this.wire.filter((e) => e.kind === "vrrp" && e.t >= since && (src === undefined || e.src === src));
  }

  backend(node: string, host: string, port: number, name: string): Proc {
    return this.spawn(node, [
      process.execPath,
      MAIN,
      "backend",
      "--host",
      host,
      "--port",
      String(port),
      "--name",
      name,
    ]);
  }

  /** `uvs run` in `node` with these rules; resolves once its control socket answers. */
  async uvs(node: string, rules: string): Promise<Uvs> {
    const base = join(this.dir, `uvs-${node}`);
    writeFileSync(`${base}.conf`, rules);
    const p = this.spawn(node, [
      process.execPath,
      MAIN,
      "run",
      "--rules",
      `${base}.conf`,
      "--control",
      `${base}.sock`,
      "--drain",
      "1",
      "--no-watch",
    ]);
    const u = new Uvs(p, `${base}.sock`);
    for (let i = 0; i < 100 && p.proc.exitCode === null; i++) {
      try {
        await u.vrrp();
        return u;
      } catch {
        await Bun.sleep(50);
      }
    }
    throw new Error(`uvs did not start in ${node}:\n${p.output()}`);
  }

  /** keepalived (VRRP only, not forking away, logging to the console) in `node`. */
  keepalived(node: string, conf: string): Keepalived {
    const base = join(this.dir, `ka-${node}`);
    writeFileSync(`${base}.conf`, conf);
    rmSync(`${base}.pid`, { force: true });
    rmSync(`${base}.vrrp.pid`, { force: true });
    const p = this.spawn(node, [
      "keepalived",
      "-n",
      "-l",
      "-D",
      "-P",
      "-R",
      "-f",
      `${base}.conf`,
      "-p",
      `${base}.pid`,
      "-r",
      `${base}.vrrp.pid`,
    ]);
    return new Keepalived(p, `${base}.vrrp.pid`);
  }

  /** A client loop in `node` against http://VIP/, one request every `periodMs`. */
  client(node: string, periodMs = 100): Client {
    const p = this.spawn(node, [
      process.execPath,
      join(import.meta.dir, "client.ts"),
      `http://${VIP}/`,
      String(periodMs),
    ]);
    return new Client(p);
  }

  /** Kill every process, remove every namespace and the temp dir (also after failures). */
  async down(): Promise<void> {
    for (const p of this.procs) if (p.exitCode === null) p.kill("SIGTERM");
    await Promise.race([Promise.all(this.procs.map((p) => p.exited)), Bun.sleep(3000)]);
    for (const p of this.procs) if (p.exitCode === null) p.kill("SIGKILL");
    // keepalived's VRRP child is not ours directly: kill what is left in our namespaces
    for (const ns of [...this.nodes, this.br]) {
      const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout.trim().split(/\s+/);
      for (const pid of pids) if (/^\d+$/.test(pid)) spawnSync("kill", ["-9", pid]);
    }
    for (const ns of [...this.nodes, this.br]) spawnSync("ip", ["netns", "del", ns]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface VrrpInstanceState {
  name: string;
  state: string;
  priority: number;
  master: string | null;
  transitions: { time: number; from: string; to: string; reason: string }[];
}

export class Uvs {
  constructor(
    readonly p: Proc,
    readonly control: string,
  ) {}

  async vrrp(): Promise<VrrpInstanceState[]> {
    const c = await connectControl(this.control);
    try {
      const snap = JSON.parse(await c.call("snapshot", { connections: false })) as {
        vrrp?: { instances: VrrpInstanceState[] };
      };
      return snap.vrrp?.instances ?? [];
    } finally {
      c.close();
    }
  }

  async state(name = "VI_1"): Promise<VrrpInstanceState | undefined> {
    return (await this.vrrp()).find((i) => i.name === name);
  }

  async stop(): Promise<void> {
    this.p.proc.kill("SIGTERM");
    await this.p.proc.exited;
  }
}

export class Keepalived {
  constructor(
    readonly p: Proc,
    readonly vrrpPidFile: string,
  ) {}

  /** SIGTERM: keepalived sends priority 0 as master and removes its VIPs. */
  async stop(): Promise<void> {
    this.p.proc.kill("SIGTERM");
    await this.p.proc.exited;
  }

  /** A crash: the VRRP child dies without a word (no priority 0); the parent does not respawn it (-R). */
  async crash(): Promise<void> {
    const pid = existsSync(this.vrrpPidFile) ? Number(readFileSync(this.vrrpPidFile, "utf8").trim()) : 0;
    if (pid > 0) process.kill(pid, "SIGKILL");
    this.p.proc.kill("SIGKILL");
    await this.p.proc.exited;
  }
}

export interface ClientResult {
  t: number;
  ok: boolean;
  body?: string;
  error?: string;
}

export class Client {
  constructor(readonly p: Proc) {}

  results(since = 0): ClientResult[] {
    return this.p
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as ClientResult)
      .filter((r) => r.t >= since);
  }

  stop(): void {
    this.p.proc.kill("SIGTERM");
  }
}

export async function waitFor<T>(
  what: string,
  ms: number,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await probe();
    if (v) return v;
    await Bun.sleep(20);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
