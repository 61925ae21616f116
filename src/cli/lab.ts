/**
 * `uvs lab up|down|status nat|dr|tun [--prefix P] [--no-http]`: the seeds' LVS labs in network
 * namespaces, for trying the packet data plane by hand (tests use src/lab directly).
 */
import { checkPrefix, labDown, labStatus, labUp } from "../lab/build.ts";
import { describeLab } from "../lab/describe.ts";
import { LabError, labUnavailable } from "../lab/netns.ts";
import { rulesPath } from "../lab/state.ts";
import { defaultPrefix, isLabKind, type LabKind, topology } from "../lab/topology.ts";

export const LAB_USAGE = "usage: uvs lab up|down|status nat|dr|tun [--prefix P] [--no-http]\n";

interface LabArgs {
  action: "up" | "down" | "status";
  kind: LabKind;
  prefix: string;
  http: boolean;
}

export function parseLabArgs(args: string[]): LabArgs | string {
  const [action, kind, ...rest] = args;
  if (action !== "up" && action !== "down" && action !== "status")
    return `uvs lab: expected up, down or status, got ${JSON.stringify(action ?? "")}\n${LAB_USAGE}`;
  if (kind === undefined || !isLabKind(kind))
    return `uvs lab: expected a lab kind nat, dr or tun, got ${JSON.stringify(kind ?? "")}\n${LAB_USAGE}`;
  const a: LabArgs = { action, kind, prefix: defaultPrefix(kind), http: true };
  for (let i = 0; i < rest.length; i++) {
    const [k, inline] = rest[i].split("=", 2) as [string, string | undefined];
    if (k === "--no-http") a.http = false;
    else if (k === "--prefix") {
      const v = inline ?? rest[++i];
      if (v === undefined) return `uvs lab: --prefix needs a value\n${LAB_USAGE}`;
      const bad = checkPrefix(v);
      if (bad) return `uvs lab: ${bad}\n`;
      a.prefix = v;
    } else return `uvs lab: unknown option ${JSON.stringify(k)}\n${LAB_USAGE}`;
  }
  return a;
}

const out = (t: string) => process.stdout.write(t);
const err = (t: string) => process.stderr.write(t);

async function up(a: LabArgs): Promise<number> {
  const lab = await labUp(a.kind, { prefix: a.prefix, httpServers: a.http });
  out(describeLab(lab.topology, a.prefix, lab.rulesPath));
  for (const w of lab.warnings) out(`warning: ${w}\n`);
  for (const rs of lab.realServers) out(`${rs.role} request log: ${rs.log}\n`);
  return 0;
}

async function down(a: LabArgs): Promise<number> {
  const r = await labDown(a.prefix);
  out(
    r.namespaces.length === 0
      ? `lab ${a.prefix}: nothing to remove\n`
      : `lab ${a.prefix}: removed ${r.namespaces.join(", ")}; stopped ${r.processes} process(es)\n`,
  );
  return 0;
}

function status(a: LabArgs): number {
  const s = labStatus(a.prefix);
  if (s.namespaces.length === 0) {
    out(`lab ${a.prefix}: down\n`);
    return 3;
  }
  const kind = s.kind ?? a.kind;
  out(describeLab(topology(kind), a.prefix, rulesPath(a.prefix)));
  out(`namespaces: ${s.namespaces.join(", ")}\n`);
  for (const sv of s.servers)
    out(`${sv.role} HTTP server pid ${sv.pid}: ${sv.running ? "running" : "NOT running"}\n`);
  for (const w of s.warnings) out(`warning: ${w}\n`);
  return 0;
}

export async function runLab(args: string[]): Promise<number> {
  const a = parseLabArgs(args);
  if (typeof a === "string") {
    err(a);
    return 2;
  }
  const missing = labUnavailable();
  if (missing) {
    err(`uvs lab: ${missing}\n`);
    return 1;
  }
  try {
    if (a.action === "up") return await up(a);
    if (a.action === "down") return await down(a);
    return status(a);
  } catch (e) {
    if (!(e instanceof LabError)) throw e;
    err(`uvs lab ${a.action} ${a.kind}: ${e.message}\n`);
    return 1;
  }
}
