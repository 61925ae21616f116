/**
 * What the engine needs to know about each `--interface`: MAC, MTU, IPv4 addresses with prefix
 * (for ARP requests and choosing the egress link of a real server) and the default gateway through
 * it (next hop of TUN real servers that are not on a link). Read from /sys and `ip -j`; plain data,
 * so it crosses to the worker by postMessage.
 */
import { readFileSync } from "node:fs";
import { parseIpv4Strict } from "../../../model/addr.ts";
import { parseMac } from "../ethernet.ts";

export interface Ipv4Net {
  /** Host-order u32. */
  addr: number;
  prefix: number;
}

export interface InterfaceInfo {
  name: string;
  mac: Uint8Array;
  mtu: number;
  v4: Ipv4Net[];
  /** Default gateway via this interface (host-order u32), 0 when none. */
  gateway: number;
}

function netMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Is `addr` inside `net` (same prefix)? */
export function inNet(net: Ipv4Net, addr: number): boolean {
  const m = netMask(net.prefix);
  return (net.addr & m) >>> 0 === (addr & m) >>> 0;
}

/** Index of the interface with a subnet holding `addr`, -1 when none. */
export function onLinkInterface(ifs: readonly InterfaceInfo[], addr: number): number {
  for (let i = 0; i < ifs.length; i++) if (ifs[i].v4.some((n) => inNet(n, addr))) return i;
  return -1;
}

/** On-link: the address itself; otherwise the default gateway of an interface that has one. */
export function nextHop(ifs: readonly InterfaceInfo[], ip: number): { ip: number; ifIdx: number } | null {
  const on = onLinkInterface(ifs, ip);
  if (on >= 0) return { ip, ifIdx: on };
  const gw = ifs.findIndex((f) => f.gateway !== 0);
  return gw >= 0 ? { ip: ifs[gw].gateway, ifIdx: gw } : null;
}

/** The address of interface `ifc` to speak from toward `addr`: its on-link address, else its first. */
export function sourceFor(ifc: InterfaceInfo, addr: number): number {
  return (ifc.v4.find((n) => inNet(n, addr)) ?? ifc.v4[0])?.addr ?? 0;
}

interface IpJsonAddr {
  family?: string;
  local?: string;
  prefixlen?: number;
}

interface IpJsonLink {
  addr_info?: IpJsonAddr[];
}

interface IpJsonRoute {
  dst?: string;
  gateway?: string;
  dev?: string;
}

function ipJson<T>(args: string[]): T | null {
  const p = Bun.spawnSync(["ip", "-j", ...args], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) return null;
  try {
    return JSON.parse(p.stdout.toString()) as T;
  } catch {
    return null;
  }
}

/** Read one interface; a clear Error (naming the interface) when it does not exist or is unusable. */
export function readInterface(name: string): InterfaceInfo {
  const sys = `/sys/class/net/${name}`;
  let macText: string;
  let mtuText: string;
  try {
    macText = readFileSync(`${sys}/address`, "utf8").trim();
    mtuText = readFileSync(`${sys}/mtu`, "utf8").trim();
  } catch {
    throw new Error(
      `--interface ${name}: no such network interface in this network namespace (nothing in ${sys})`,
    );
  }
  const mac = parseMac(macText);
  if (!mac)
    throw new Error(`--interface ${name}: not an Ethernet interface (address ${JSON.stringify(macText)})`);
  const links = ipJson<IpJsonLink[]>(["-4", "addr", "show", "dev", name]) ?? [];
  const v4: Ipv4Net[] = [];
  for (const a of links[0]?.addr_info ?? []) {
    const addr = a.family === "inet" && a.local ? parseIpv4Strict(a.local) : null;
    if (addr !== null) v4.push({ addr, prefix: a.prefixlen ?? 32 });
  }
  const routes = ipJson<IpJsonRoute[]>(["-4", "route", "show", "default", "dev", name]) ?? [];
  const gw = routes.find((r) => r.gateway)?.gateway;
  return { name, mac, mtu: Number(mtuText) || 1500, v4, gateway: (gw && parseIpv4Strict(gw)) || 0 };
}
