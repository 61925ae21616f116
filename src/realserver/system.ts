/**
 * What `uvs realserver` reads and changes on the host, behind one interface so the plan can be
 * tested against a fake. The real implementation uses /proc/sys and `ip` in the current namespace.
 */
import { readFileSync, writeFileSync } from "node:fs";

export interface LinkState {
  exists: boolean;
  up: boolean;
  /** IPv4 addresses as "a.b.c.d/len". */
  addrs: string[];
}

/** Every change returns undefined on success or the reason it failed. */
export interface RsSystem {
  readSysctl(key: string): string | undefined;
  writeSysctl(key: string, value: string): string | undefined;
  link(dev: string): LinkState;
  addAddr(dev: string, cidr: string): string | undefined;
  delAddr(dev: string, cidr: string): string | undefined;
  setLinkUp(dev: string, up: boolean): string | undefined;
  loadModule(name: string): string | undefined;
}

/** net.ipv4.conf.lo.arp_ignore → /proc/sys/net/ipv4/conf/lo/arp_ignore (device names have no dots). */
export function sysctlPath(key: string): string {
  return `/proc/sys/${key.replaceAll(".", "/")}`;
}

function run(argv: string[]): { code: number; out: string; err: string } {
  try {
    const p = Bun.spawnSync(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    return { code: p.exitCode ?? 1, out: p.stdout.toString(), err: p.stderr.toString().trim() };
  } catch (e) {
    return { code: 127, out: "", err: `${argv[0]}: ${(e as Error).message}` };
  }
}

function failure(argv: string[], r: { code: number; err: string }): string | undefined {
  return r.code === 0 ? undefined : `\`${argv.join(" ")}\`: ${r.err || `exit ${r.code}`}`;
}

interface IpJsonLink {
  flags?: string[];
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

function parseLink(json: string): LinkState {
  const links = JSON.parse(json) as IpJsonLink[];
  const l = links[0];
  if (!l) return { exists: false, up: false, addrs: [] };
  const addrs = (l.addr_info ?? [])
    .filter((a) => a.family === "inet" && a.local)
    .map((a) => `${a.local}/${a.prefixlen}`);
  return { exists: true, up: (l.flags ?? []).includes("UP"), addrs };
}

export const hostSystem: RsSystem = {
  readSysctl(key) {
    try {
      return readFileSync(sysctlPath(key), "utf8").trim();
    } catch {
      return undefined;
    }
  },
  writeSysctl(key, value) {
    try {
      writeFileSync(sysctlPath(key), value);
      return undefined;
    } catch (e) {
      return `cannot write ${sysctlPath(key)}: ${(e as Error).message}`;
    }
  },
  link(dev) {
    const r = run(["ip", "-j", "addr", "show", "dev", dev]);
    if (r.code !== 0) return { exists: false, up: false, addrs: [] };
    try {
      return parseLink(r.out);
    } catch {
      return { exists: false, up: false, addrs: [] };
    }
  },
  addAddr(dev, cidr) {
    const argv = ["ip", "addr", "add", cidr, "dev", dev];
    return failure(argv, run(argv));
  },
  delAddr(dev, cidr) {
    const argv = ["ip", "addr", "del", cidr, "dev", dev];
    return failure(argv, run(argv));
  },
  setLinkUp(dev, up) {
    const argv = ["ip", "link", "set", dev, up ? "up" : "down"];
    return failure(argv, run(argv));
  },
  loadModule(name) {
    const argv = ["modprobe", name];
    return failure(argv, run(argv));
  },
};
