/**
 * Name lookups ipvsadm does through libc, limited to local files (no DNS): getservbyname /
 * getservbyport over /etc/services, gethostbyname (IPv4) / gethostbyaddr over /etc/hosts.
 */
import { readFileSync } from "node:fs";
import { type IpAddr, parseIpv4Strict, parseIpv6 } from "../../model/addr.ts";

export interface NameDb {
  /** getservbyport(port, proto)->s_name */
  serviceByPort(port: number, proto: string): string | null;
  /** getservbyname(name, proto)->s_port */
  portByService(name: string, proto: string): number | null;
  /** gethostbyname(name), first IPv4 address, host-order u32 */
  hostByName4(name: string): number | null;
  /** gethostbyaddr(addr)->h_name */
  nameByAddr(addr: IpAddr): string | null;
}

interface ServEntry {
  name: string;
  aliases: string[];
  port: number;
  proto: string;
}

interface HostEntry {
  af: "inet" | "inet6";
  key: string;
  v4: number | null;
  names: string[];
}

function stripComment(line: string): string[] {
  const i = line.indexOf("#");
  return (i >= 0 ? line.slice(0, i) : line).split(/[ \t]+/).filter((t) => t !== "");
}

export function parseServices(text: string): ServEntry[] {
  const out: ServEntry[] = [];
  for (const line of text.split("\n")) {
    const t = stripComment(line);
    const m = t.length >= 2 ? /^([0-9]+)\/(\S+)$/.exec(t[1]) : null;
    if (!m) continue;
    out.push({ name: t[0], aliases: t.slice(2), port: Number(m[1]), proto: m[2] });
  }
  return out;
}

export function parseHosts(text: string): HostEntry[] {
  const out: HostEntry[] = [];
  for (const line of text.split("\n")) {
    const t = stripComment(line);
    if (t.length < 2) continue;
    const v4 = parseIpv4Strict(t[0]);
    if (v4 !== null) {
      out.push({ af: "inet", key: String(v4), v4, names: t.slice(1) });
      continue;
    }
    const v6 = parseIpv6(t[0]);
    if (v6) out.push({ af: "inet6", key: v6.join(","), v4: null, names: t.slice(1) });
  }
  return out;
}

export function makeNameDb(servicesText: string, hostsText: string): NameDb {
  const services = parseServices(servicesText);
  const hosts = parseHosts(hostsText);
  return {
    serviceByPort: (port, proto) => services.find((s) => s.port === port && s.proto === proto)?.name ?? null,
    portByService: (name, proto) =>
      services.find((s) => s.proto === proto && (s.name === name || s.aliases.includes(name)))?.port ?? null,
    hostByName4: (name) => {
      const lower = name.toLowerCase();
      const h = hosts.find((e) => e.af === "inet" && e.names.some((n) => n.toLowerCase() === lower));
      return h ? h.v4 : null;
    },
    nameByAddr: (addr) => {
      const key = addr.af === "inet" ? String(addr.words[0]) : addr.words.join(",");
      return hosts.find((e) => e.af === addr.af && e.key === key)?.names[0] ?? null;
    },
  };
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

let systemDb: NameDb | null = null;

/** The machine's /etc/services and /etc/hosts, read once. */
export function systemNameDb(): NameDb {
  systemDb ??= makeNameDb(readOrEmpty("/etc/services"), readOrEmpty("/etc/hosts"));
  return systemDb;
}
