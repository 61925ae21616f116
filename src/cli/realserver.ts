/**
 * `uvs realserver up|down|check --vip VIP --mode dr|tun [--dev DEV]`: on a real server, what the
 * seeds' lvs_real scripts do, idempotently. check exits 0 when everything is in place, 1 listing
 * what is missing; up/down exit 1 when a change failed.
 */
import { parseIpv4Strict } from "../model/addr.ts";
import { apply, check, countBy, formatOutcomes } from "../realserver/apply.ts";
import { defaultDev, downSteps, type RsMode, type RsOptions, upSteps } from "../realserver/plan.ts";
import { hostSystem, type RsSystem } from "../realserver/system.ts";

export const REALSERVER_USAGE =
  "usage: uvs realserver up|down|check --vip VIP --mode dr|tun [--dev lo|tunl0]\n";

type Action = "up" | "down" | "check";

export interface RealserverArgs extends RsOptions {
  action: Action;
}

export function parseRealserverArgs(args: string[]): RealserverArgs | string {
  const [action, ...rest] = args;
  if (action !== "up" && action !== "down" && action !== "check")
    return `uvs realserver: expected up, down or check, got ${JSON.stringify(action ?? "")}\n${REALSERVER_USAGE}`;
  let vip: string | undefined;
  let mode: RsMode | undefined;
  let dev: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const [k, inline] = rest[i].split("=", 2) as [string, string | undefined];
    const v = inline ?? rest[++i];
    if (v === undefined) return `uvs realserver: ${k} needs a value\n${REALSERVER_USAGE}`;
    if (k === "--vip") {
      if (parseIpv4Strict(v) === null)
        return `uvs realserver: --vip: ${JSON.stringify(v)} is not an IPv4 address\n`;
      vip = v;
    } else if (k === "--mode") {
      if (v !== "dr" && v !== "tun") return `uvs realserver: --mode: ${JSON.stringify(v)} is not dr or tun\n`;
      mode = v;
    } else if (k === "--dev") {
      // Device names appear in /proc/sys paths, where a dot would be a separator.
      if (!/^[A-Za-z0-9_-]{1,15}$/.test(v))
        return `uvs realserver: --dev: ${JSON.stringify(v)} is not a device name\n`;
      dev = v;
    } else return `uvs realserver: unknown option ${JSON.stringify(k)}\n${REALSERVER_USAGE}`;
  }
  if (!vip || !mode) return `uvs realserver: --vip and --mode are required\n${REALSERVER_USAGE}`;
  return { action, vip, mode, dev: dev ?? defaultDev(mode) };
}

export interface RealserverIo {
  out(t: string): void;
  err(t: string): void;
  sys: RsSystem;
  isRoot: boolean;
}

export function realserver(args: string[], io: RealserverIo): number {
  const a = parseRealserverArgs(args);
  if (typeof a === "string") {
    io.err(a);
    return 2;
  }
  const where = `${a.vip}/32 on ${a.dev}, mode ${a.mode}`;
  if (a.action === "check") {
    const outcomes = check(upSteps(a), io.sys);
    io.out(formatOutcomes(outcomes));
    const missing = countBy(outcomes, "missing");
    io.out(missing === 0 ? `real server ready (${where})\n` : `${missing} missing for ${where}\n`);
    return missing === 0 ? 0 : 1;
  }
  if (!io.isRoot) {
    io.err(`uvs realserver ${a.action}: must run as root (it changes addresses and sysctls)\n`);
    return 1;
  }
  const outcomes = apply(a.action === "up" ? upSteps(a) : downSteps(a), io.sys);
  io.out(formatOutcomes(outcomes));
  const changed = countBy(outcomes, "changed");
  const failed = countBy(outcomes, "failed");
  if (failed > 0) io.out(`${failed} failed, ${changed} changed (${where})\n`);
  else
    io.out(
      changed === 0
        ? `nothing to change: already ${a.action} (${where})\n`
        : `${changed} changed (${where})\n`,
    );
  return failed === 0 ? 0 : 1;
}

export function runRealserver(args: string[]): number {
  return realserver(args, {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    sys: hostSystem,
    isRoot: process.getuid?.() === 0,
  });
}
