/**
 * Stand a lab up from its topology and take it down again. `labUp` either returns a complete lab or
 * removes what it built and throws; `labDown` removes everything with the lab's prefix (namespaces,
 * the processes in them, state files), also for half-built labs, and is idempotent.
 */
import { spawn as spawnChild } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { labRules } from "./describe.ts";
import {
  addNamespace,
  deleteNamespace,
  inNs,
  ip,
  LabError,
  listNamespaces,
  namespacePids,
  nsSysctl,
  type RunResult,
  run,
} from "./netns.ts";
import { selfCommand } from "./self.ts";
import {
  ensureStateDir,
  type LabState,
  logPath,
  outPath,
  readState,
  removeStateFiles,
  rulesPath,
  writeState,
} from "./state.ts";
import {
  defaultPrefix,
  type End,
  hostOf,
  type LabKind,
  type Node,
  nsName,
  type Role,
  type Topology,
  topology,
} from "./topology.ts";

const ALL_ROLES: readonly Role[] = ["client", "router", "director", "rs1", "rs2"];
const BRIDGE = "br0";

export interface RealServerInfo {
  role: Role;
  addr: string;
  /** The HTTP server's request log (client address per line). */
  log: string;
}

export interface Lab {
  kind: LabKind;
  prefix: string;
  topology: Topology;
  vip: string;
  realServers: RealServerInfo[];
  warnings: string[];
  /** A rules file for uvs in the director: the VIP on port 80, rr over both real servers. */
  rulesPath: string;
  ns(role: Role | "br"): string;
  /** A role's address on an interface, without prefix length. */
  addr(role: Role, ifname?: "eth0" | "eth1"): string;
  /** Run argv inside a role's namespace and wait. */
  exec(role: Role, argv: string[]): RunResult;
  /** Start argv inside a role's namespace; the caller kills it (labDown also does). */
  spawn(role: Role, argv: string[]): Subprocess<"ignore", "pipe", "pipe">;
}

export interface LabOptions {
  prefix?: string;
  /** Start the real servers' HTTP servers (default true). */
  httpServers?: boolean;
  /** Called before each phase of the build (progress; tests use it to fail midway). */
  onStep?: (step: BuildStep) => void;
}

export type BuildStep = "namespaces" | "wires" | "addresses" | "realservers" | "http";

export function checkPrefix(prefix: string): string | undefined {
  return /^[a-z0-9][a-z0-9-]{0,39}$/i.test(prefix)
    ? undefined
    : `lab prefix ${JSON.stringify(prefix)}: use letters, digits and dashes (at most 40)`;
}

/** The Lab handle for a lab of this kind and prefix (built or not). */
export function openLab(kind: LabKind, prefix = defaultPrefix(kind)): Lab {
  const topo = topology(kind);
  const node = (role: Role): Node => {
    const n = topo.nodes.find((x) => x.role === role);
    if (!n) throw new LabError(`the ${kind} lab has no ${role}`);
    return n;
  };
  const ns = (role: Role | "br") => nsName(prefix, role);
  const state = readState(prefix);
  return {
    kind,
    prefix,
    topology: topo,
    vip: topo.vip,
    realServers: topo.nodes
      .filter((n) => n.realServer)
      .map((n) => ({ role: n.role, addr: n.realServer!.addr, log: logPath(prefix, n.role) })),
    warnings: state?.warnings ?? [],
    rulesPath: rulesPath(prefix),
    ns,
    addr(role, ifname = "eth0") {
      const cidr = node(role).addrs[ifname];
      if (!cidr) throw new LabError(`${role} has no ${ifname} in the ${kind} lab`);
      return hostOf(cidr);
    },
    exec: (role, argv) => run(inNs(ns(role), argv)),
    spawn: (role, argv) =>
      Bun.spawn(inNs(ns(role), argv), { stdin: "ignore", stdout: "pipe", stderr: "pipe" }),
  };
}

function wire(prefix: string, a: End, b: End | "bridge"): void {
  const nsA = nsName(prefix, a.role);
  if (b === "bridge") {
    const port = `${a.role}-${a.ifname}`;
    const br = nsName(prefix, "br");
    ip(nsA, ["link", "add", a.ifname, "type", "veth", "peer", "name", port, "netns", br], `wire ${port}`);
    ip(br, ["link", "set", port, "master", BRIDGE], `attach ${port} to the bridge`);
    ip(br, ["link", "set", port, "up"], `bring ${port} up`);
  } else {
    const nsB = nsName(prefix, b.role);
    const what = `wire ${a.role} ${a.ifname} to ${b.role} ${b.ifname}`;
    ip(nsA, ["link", "add", a.ifname, "type", "veth", "peer", "name", b.ifname, "netns", nsB], what);
  }
}

function configureNode(prefix: string, n: Node): void {
  const ns = nsName(prefix, n.role);
  for (const [ifname, cidr] of Object.entries(n.addrs)) {
    ip(ns, ["addr", "add", cidr, "dev", ifname], `address ${n.role} ${ifname}`);
    ip(ns, ["link", "set", ifname, "up"], `bring ${n.role} ${ifname} up`);
  }
  if (n.gateway) ip(ns, ["route", "add", "default", "via", n.gateway], `default route of ${n.role}`);
  for (const [k, v] of Object.entries(n.sysctls)) nsSysctl(ns, k, v);
}

/** `uvs realserver up` inside the real server's namespace; returns its complaint when it fails. */
function realserverUp(prefix: string, n: Node, vip: string): string | undefined {
  const mode = n.realServer?.mode;
  if (!mode) return undefined;
  const r = run(
    inNs(nsName(prefix, n.role), [...selfCommand(), "realserver", "up", "--vip", vip, "--mode", mode]),
  );
  if (r.code === 0) return undefined;
  const problems = (r.stdout + r.stderr).split("\n").filter((l) => /^FAILED|uvs realserver/.test(l));
  const first = problems[0]?.replace(/^FAILED\s+/, "") ?? `exit ${r.code}`;
  const more = problems.length > 1 ? ` and ${problems.length - 1} more` : "";
  return `${n.role}: uvs realserver up --mode ${mode} failed: ${first}${more}`;
}

async function waitListening(out: string, pid: number, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = readText(out);
    if (text.includes("listening on")) return;
    if (!alive(pid)) throw new LabError(`${what} exited: ${text.trim() || "no output"}`);
    if (Date.now() > deadline) throw new LabError(`${what} did not start listening within 10 s`);
    await Bun.sleep(20);
  }
}

/** Start a real server's HTTP server detached (it outlives `uvs lab up`); returns its pid. */
async function startHttpServer(prefix: string, n: Node, port: number): Promise<number> {
  const addr = n.realServer!.addr;
  const fd = openSync(outPath(prefix, n.role), "w");
  const argv = [
    ...selfCommand(),
    ...[
      "backend",
      "--host",
      "0.0.0.0",
      "--port",
      String(port),
      "--name",
      addr,
      "--log",
      logPath(prefix, n.role),
    ],
  ];
  const child = spawnChild("ip", ["netns", "exec", nsName(prefix, n.role), ...argv], {
    detached: true,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new LabError(`cannot start the HTTP server of ${n.role}`);
  await waitListening(outPath(prefix, n.role), pid, `the HTTP server of ${n.role}`);
  return pid;
}

function build(topo: Topology, prefix: string, step: (s: BuildStep) => void): string[] {
  step("namespaces");
  for (const n of topo.nodes) addNamespace(nsName(prefix, n.role));
  const br = nsName(prefix, "br");
  addNamespace(br);
  ip(br, ["link", "add", BRIDGE, "type", "bridge"], "create the bridge");
  ip(br, ["link", "set", BRIDGE, "up"], "bring the bridge up");
  step("wires");
  for (const w of topo.wires) wire(prefix, w.a, w.b);
  step("addresses");
  for (const n of topo.nodes) configureNode(prefix, n);
  step("realservers");
  const warnings: string[] = [];
  for (const n of topo.nodes) {
    const problem = realserverUp(prefix, n, topo.vip);
    if (!problem) continue;
    // TUN: a kernel without IPIP has no tunl0; the lab still serves for capturing frames on the wire.
    if (n.realServer?.mode === "tun") warnings.push(problem);
    else throw new LabError(problem);
  }
  return warnings;
}

/** Build the lab; on any failure everything built so far is removed before the error is thrown. */
export async function labUp(kind: LabKind, opts: LabOptions = {}): Promise<Lab> {
  const prefix = opts.prefix ?? defaultPrefix(kind);
  const bad = checkPrefix(prefix);
  if (bad) throw new LabError(bad);
  const existing = listNamespaces().filter((n) => labNamespaceNames(prefix).includes(n));
  if (existing.length > 0)
    throw new LabError(
      `lab ${prefix} is already (partly) up: ${existing.join(", ")}; run \`uvs lab down\` first`,
    );
  ensureStateDir();
  const topo = topology(kind);
  const state: LabState = { kind, prefix, pids: {}, warnings: [] };
  writeState(state); // first, so that down finds a lab that failed halfway
  try {
    const step = opts.onStep ?? (() => {});
    state.warnings = build(topo, prefix, step);
    writeState(state);
    writeFileSync(rulesPath(prefix), labRules(topo));
    if (opts.httpServers !== false) step("http");
    if (opts.httpServers !== false)
      for (const n of topo.nodes.filter((x) => x.realServer)) {
        state.pids[n.role] = await startHttpServer(prefix, n, topo.httpPort);
        writeState(state);
      }
  } catch (e) {
    await labDown(prefix);
    throw e;
  }
  return openLab(kind, prefix);
}

/** Namespaces a lab with this prefix may have, whatever its kind. */
export function labNamespaceNames(prefix: string): string[] {
  return [...ALL_ROLES.map((r) => nsName(prefix, r)), nsName(prefix, "br")];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** SIGTERM the pids, SIGKILL those still there after a grace period. */
async function stopPids(pids: number[]): Promise<void> {
  for (const p of pids) if (alive(p)) process.kill(p, "SIGTERM");
  const deadline = Date.now() + 2000;
  while (pids.some(alive) && Date.now() < deadline) await Bun.sleep(20);
  for (const p of pids) if (alive(p)) process.kill(p, "SIGKILL");
}

export interface DownReport {
  namespaces: string[];
  processes: number;
}

/** Remove every namespace of the prefix and the processes in them, and the state files. Idempotent. */
export async function labDown(prefix: string): Promise<DownReport> {
  const state = readState(prefix);
  const present = listNamespaces().filter((n) => labNamespaceNames(prefix).includes(n));
  // The HTTP servers from the state file, plus anything else still living in the lab's namespaces.
  const pids = new Set<number>(Object.values(state?.pids ?? {}).filter((p) => isLabServer(p)));
  for (const ns of present) for (const p of namespacePids(ns)) pids.add(p);
  pids.delete(process.pid);
  await stopPids([...pids]);
  for (const ns of present) deleteNamespace(ns);
  removeStateFiles(prefix, ALL_ROLES);
  return { namespaces: present, processes: pids.size };
}

/** A pid from the state file is ours only if it is still a `backend` process (pids get reused). */
function isLabServer(pid: number): boolean {
  return alive(pid) && readText(`/proc/${pid}/cmdline`).split("\0").includes("backend");
}

export interface LabStatus {
  kind: LabKind | undefined;
  namespaces: string[];
  servers: { role: Role; pid: number; running: boolean }[];
  warnings: string[];
}

export function labStatus(prefix: string): LabStatus {
  const state = readState(prefix);
  const namespaces = listNamespaces().filter((n) => labNamespaceNames(prefix).includes(n));
  const servers = Object.entries(state?.pids ?? {}).map(([role, pid]) => ({
    role: role as Role,
    pid: pid as number,
    running: isLabServer(pid as number),
  }));
  return { kind: state?.kind, namespaces, servers, warnings: state?.warnings ?? [] };
}
