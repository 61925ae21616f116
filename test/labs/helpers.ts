/**
 * Helpers for the lab tests: whether labs can run here, and an HTTP GET made from inside a lab
 * namespace (bun's fetch in a child process, so no curl is needed).
 */
import { readFileSync } from "node:fs";
import type { Lab } from "../../src/lab/build.ts";
import { labUnavailable } from "../../src/lab/netns.ts";
import type { Role } from "../../src/lab/topology.ts";

export const LAB_MISSING = labUnavailable();
export const SKIP_LABS = LAB_MISSING !== undefined;
export const skipWhy = (name: string) => (SKIP_LABS ? `${name} (skipped: ${LAB_MISSING})` : name);

export interface HttpAnswer {
  status?: number;
  realServer?: string | null;
  body?: string;
  error?: string;
}

const FETCH_SCRIPT = `
const [url, ms] = process.argv.slice(-2);
try {
  const r = await fetch(url, { signal: AbortSignal.timeout(Number(ms)) });
  console.log(JSON.stringify({ status: r.status, realServer: r.headers.get("x-real-server"), body: await r.text() }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e && e.name || e) }));
}`;

export function httpGetFrom(lab: Lab, role: Role, url: string, timeoutMs = 2000): HttpAnswer {
  const r = lab.exec(role, [process.execPath, "-e", FETCH_SCRIPT, url, String(timeoutMs)]);
  try {
    return JSON.parse(r.stdout) as HttpAnswer;
  } catch {
    return { error: `no answer (exit ${r.code}): ${r.stderr.trim()}` };
  }
}

/** Client addresses in a real server's request log (second field of each line). */
export function loggedClients(lab: Lab, role: Role): string[] {
  const rs = lab.realServers.find((r) => r.role === role);
  if (!rs) throw new Error(`${role} is not a real server`);
  let text = "";
  try {
    text = readFileSync(rs.log, "utf8");
  } catch {}
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ")[1]);
}

/** `ip -j addr show` of an interface inside a role's namespace: its IPv4 "addr/len" list. */
export function ipv4Addrs(lab: Lab, role: Role, ifname: string): string[] {
  const r = lab.exec(role, ["ip", "-j", "addr", "show", "dev", ifname]);
  if (r.code !== 0) return [];
  const links = JSON.parse(r.stdout) as {
    addr_info: { family: string; local: string; prefixlen: number }[];
  }[];
  return links[0].addr_info.filter((a) => a.family === "inet").map((a) => `${a.local}/${a.prefixlen}`);
}

export function sysctlIn(lab: Lab, role: Role, key: string): string {
  return lab.exec(role, ["sysctl", "-n", key]).stdout.trim();
}

export function defaultRoute(lab: Lab, role: Role): string | undefined {
  const r = lab.exec(role, ["ip", "-j", "route", "show", "default"]);
  const routes = JSON.parse(r.stdout || "[]") as { gateway?: string }[];
  return routes[0]?.gateway;
}
