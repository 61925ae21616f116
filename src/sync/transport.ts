/**
 * Sync sockets, as make_send_sock / make_receive_sock set them up: the master sends from the
 * interface's primary address to group:port with multicast TTL `ttl`, loop off, out of the
 * named interface; the backup binds group:port and joins the group on that interface.
 *
 * uvs extension: a unicast `group` works too (the kernel only takes multicast): the master
 * sends to that address, the backup binds it (it must be one of the backup's own) and joins
 * nothing. Handy on loopback and across routed networks.
 */
import { existsSync, readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import type { udp } from "bun";
import type { IpAddr } from "../model/addr.ts";
import { IPV4_UDP_HEADERS, IPV6_UDP_HEADERS } from "./codec.ts";

export const DEFAULT_GROUP = "224.0.0.81";
export const DEFAULT_PORT = 8848;
export const DEFAULT_TTL = 1;

export interface SyncEndpoint {
  ifname: string;
  group: IpAddr;
  port: number;
  ttl: number;
}

export function isMulticast(a: IpAddr): boolean {
  return a.af === "inet" ? a.words[0] >>> 28 === 0xe : a.words[0] >>> 24 === 0xff;
}

/** Does the interface exist (up or not)? __dev_get_by_name, the kernel's ENODEV check. */
export function interfaceExists(ifname: string): boolean {
  if (/^[^/\0]{1,15}$/.test(ifname) && existsSync(`/sys/class/net/${ifname}`)) return true;
  return networkInterfaces()[ifname] !== undefined;
}

/**
 * The interface's primary address of the family (inet_select_addr), or an error saying why.
 * Interfaces that are down or without carrier are not listed by the runtime: "no address" then.
 */
export function interfaceAddress(ifname: string, af: "inet" | "inet6"): { addr: string } | { error: string } {
  if (!interfaceExists(ifname)) return { error: `no network interface named ${JSON.stringify(ifname)}` };
  const want = af === "inet" ? "IPv4" : "IPv6";
  const a = networkInterfaces()[ifname]?.find((x) => x.family === want);
  if (!a) return { error: `interface ${ifname} is down or has no ${want} address` };
  return { addr: a.address };
}

/** A link just brought up may take a moment to report carrier: wait up to `ms` for its address. */
async function awaitAddress(ifname: string, af: "inet" | "inet6", ms = 3000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const r = interfaceAddress(ifname, af);
    if ("addr" in r) return r.addr;
    if (Date.now() >= end || r.error.startsWith("no network interface")) throw new Error(r.error);
    await Bun.sleep(100);
  }
}

/** The interface's MTU (what a backup's default maxlen comes from); 1500 when unknown. */
export function interfaceMtu(ifname: string): number {
  try {
    const n = Number(readFileSync(`/sys/class/net/${ifname}/mtu`, "utf8").trim());
    return Number.isFinite(n) && n > 0 ? n : 1500;
  } catch {
    return 1500;
  }
}

/**
 * start_sync_thread's sync_maxlen: a given value clamped to [1 (master) / 1024 (backup),
 * 65535 - headers]; by default 1500 - headers (master) or clamp(MTU, 1500, 65535) - headers.
 */
export function effectiveMaxlen(
  state: "master" | "backup",
  given: number | undefined,
  af: "inet" | "inet6",
  mtu: number,
): number {
  const hlen = af === "inet6" ? IPV6_UDP_HEADERS : IPV4_UDP_HEADERS;
  if (given) return Math.min(Math.max(given, state === "backup" ? 1024 : 1), 65535 - hlen);
  const m = state === "backup" ? Math.min(Math.max(mtu, 1500), 65535) : 1500;
  return m - hlen;
}

export interface SendSocket {
  send(msg: Uint8Array): boolean;
  close(): void;
}

/** make_send_sock. Throws with a clear message when the interface or socket cannot be used. */
export async function openSendSocket(ep: SyncEndpoint): Promise<SendSocket> {
  const local = { addr: await awaitAddress(ep.ifname, ep.group.af) };
  // ICMP errors (nobody listening at a unicast group yet) come back as socket errors: not fatal.
  const s = await Bun.udpSocket({ hostname: local.addr, port: 0, socket: { data() {}, error() {} } });
  if (isMulticast(ep.group)) {
    s.setMulticastInterface(local.addr);
    s.setMulticastTTL(ep.ttl);
    s.setMulticastLoopback(false);
  } else s.setTTL(ep.ttl);
  return {
    send: (msg) => s.send(msg, ep.port, ep.group.text),
    close: () => s.close(),
  };
}

export interface ReceiveSocket {
  close(): void;
}

/** make_receive_sock: bind group:port, join the group on the interface. */
export async function openReceiveSocket(
  ep: SyncEndpoint,
  onMessage: (msg: Uint8Array, from: string) => void,
): Promise<ReceiveSocket> {
  const local = { addr: await awaitAddress(ep.ifname, ep.group.af) };
  const s: udp.Socket<"uint8array"> = await Bun.udpSocket({
    hostname: ep.group.text,
    port: ep.port,
    binaryType: "uint8array",
    socket: { data: (_s, buf, _port, addr) => onMessage(buf, addr), error() {} },
  });
  if (isMulticast(ep.group) && !s.addMembership(ep.group.text, local.addr)) {
    s.close();
    throw new Error(`cannot join multicast group ${ep.group.text} on ${ep.ifname} (${local.addr})`);
  }
  return { close: () => s.close() };
}
