/**
 * -L -c: ipvsadm reads /proc/net/ip_vs_conn and re-prints every row. We render each snapshot
 * connection as the kernel's /proc line and then parse it the way ipvsadm's print_conn() does
 * (sscanf on blanks), so quirks such as rows without PE data keep the short format.
 */
import { type Family, type IpAddr, parseIp } from "../../model/addr.ts";
import type { SnapConn, Snapshot } from "../../model/snapshot.ts";
import { table } from "../../util/table.ts";
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from "./hostport.ts";
import type { NameDb } from "./names.ts";
import { addrPort, left } from "./text.ts";

const hex = (v: number, n: number) => v.toString(16).toUpperCase().padStart(n, "0");

function procAddr(a: IpAddr): string {
  if (a.af === "inet") return hex(a.words[0], 8);
  const groups: string[] = [];
  for (const w of a.words) groups.push(hex(w >>> 16, 4).toLowerCase(), hex(w & 0xffff, 4).toLowerCase());
  return groups.join(":");
}

function addrOf(text: string): IpAddr {
  const a = parseIp(text);
  if (!a) throw new Error(`bad address ${text}`);
  return a;
}

/** One row of /proc/net/ip_vs_conn as the kernel prints it. */
export function procConnLine(c: SnapConn): string {
  const cols = [
    left(c.protocol, 3),
    procAddr(addrOf(c.client_address)),
    hex(c.client_port, 4),
    procAddr(addrOf(c.virtual_address)),
    hex(c.virtual_port, 4),
    procAddr(addrOf(c.dest_address)),
    hex(c.dest_port, 4),
    left(c.state, 11),
    String(c.expires >>> 0).padStart(7),
  ];
  const pe = c.pe_data !== null ? ` ${c.pe_name ?? ""} ${c.pe_data}` : "";
  return `${cols.join(" ")}${pe}`;
}

const CONN_PROTO: Record<string, number> = table({ TCP: IPPROTO_TCP, UDP: IPPROTO_UDP, SCTP: IPPROTO_SCTP });

/** sscanf's %X into an unsigned short: the hex value cut to 16 bits. */
const hex16 = (s: string) => Number.parseInt(s, 16) & 0xffff;

function procToAddr(s: string): { af: Family; addr: IpAddr } {
  const v6 = s.includes(":") ? parseIp(s) : null;
  if (v6) return { af: "inet6", addr: v6 };
  const v = Number.parseInt(s, 16) >>> 0;
  return { af: "inet", addr: addrOf(`${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`) };
}

/** print_conn(): fgets reads at most 255 characters of a line. */
export function printConn(line: string, numeric: boolean, persistentConn: boolean, names: NameDb): string {
  const f = line
    .slice(0, 255)
    .split(/[ \t\n]+/)
    .filter((t) => t !== "");
  if (f.length < 9) return "";
  const [protocol, c, cport, v, vport, d, dport, state, expiresText] = f;
  const proto = CONN_PROTO[protocol] ?? 0;
  const client = procToAddr(c);
  const virt = client.af === "inet6" ? { af: "inet6" as Family, addr: addrOf(v) } : procToAddr(v);
  const dest = procToAddr(d);
  const cname = addrPort(client.af, client.addr, hex16(cport), proto, numeric, names);
  const vname = addrPort(virt.af, virt.addr, hex16(vport), proto, numeric, names);
  const dname = addrPort(dest.af, dest.addr, hex16(dport), proto, numeric, names);
  const expires = Number(BigInt.asUintN(32, BigInt(expiresText)));
  const expire = `${String(Math.floor(expires / 60)).padStart(2, "0")}:${String(expires % 60).padStart(2, "0")}`;
  const head = `${left(protocol, 3)} ${left(expire, 6)} ${left(state, 11)} ${left(cname, 18)} ${left(vname, 18)}`;
  if (persistentConn && f.length >= 11) return `${head} ${left(dname, 16)} ${left(f[9], 18)} ${f[10]}\n`;
  return `${head} ${dname}\n`;
}

export function listConnections(
  snap: Snapshot,
  numeric: boolean,
  persistentConn: boolean,
  names: NameDb,
): string {
  let out = "IPVS connection entries\n";
  out += persistentConn
    ? `pro expire ${left("state", 11)} ${left("source", 18)} ${left("virtual", 18)} ${left("destination", 18)} ${left("pe name", 16)} pe_data\n`
    : `pro expire ${left("state", 11)} ${left("source", 18)} ${left("virtual", 18)} destination\n`;
  for (const c of snap.connections) out += printConn(procConnLine(c), numeric, persistentConn, names);
  return out;
}
