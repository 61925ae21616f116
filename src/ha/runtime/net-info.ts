/**
 * What the VRRP runtime reads about local interfaces: link state and MAC from sysfs, the primary
 * IPv4 address from `ip -j addr`. Every reader returns null instead of throwing.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { type IpAddr, parseIp } from "../../model/addr.ts";
import { parseMac } from "../vrrp-frame.ts";

function sysfs(ifname: string, file: string): string | null {
  if (!/^[^/\s]{1,15}$/.test(ifname)) return null;
  try {
    return readFileSync(`/sys/class/net/${ifname}/${file}`, "utf8").trim();
  } catch {
    return null;
  }
}

/** Whether the link is usable: operstate up (or unknown, as loopback and some tunnels report). */
export function linkUp(ifname: string): boolean {
  const s = sysfs(ifname, "operstate");
  return s === "up" || s === "unknown";
}

export function interfaceExists(ifname: string): boolean {
  return sysfs(ifname, "operstate") !== null;
}

export function interfaceMac(ifname: string): Uint8Array | null {
  const t = sysfs(ifname, "address");
  return t ? parseMac(t) : null;
}

interface IpJsonAddr {
  family?: string;
  local?: string;
  secondary?: boolean;
}

/** The interface's addresses of a family as `ip -j addr show dev IF` lists them (primary first). */
export function interfaceAddrs(ifname: string, family: "inet" | "inet6" = "inet"): IpAddr[] {
  const r = spawnSync("ip", ["-j", family === "inet" ? "-4" : "-6", "addr", "show", "dev", ifname], {
    encoding: "utf8",
    timeout: 2000,
  });
  if (r.status !== 0) return [];
  try {
    const links = JSON.parse(r.stdout) as { addr_info?: IpJsonAddr[] }[];
    const infos = links.flatMap((l) => l.addr_info ?? []).filter((a) => a.family === family && !a.secondary);
    return infos.map((a) => (a.local ? parseIp(a.local) : null)).filter((a): a is IpAddr => a !== null);
  } catch {
    return [];
  }
}

/** The address adverts go out from: keepalived uses the interface's primary address. */
export function primaryAddr(ifname: string, family: "inet" | "inet6" = "inet"): IpAddr | null {
  return interfaceAddrs(ifname, family)[0] ?? null;
}
