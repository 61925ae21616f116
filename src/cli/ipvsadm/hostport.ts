/**
 * ipvsadm's parse_service() and parse_netmask(): `host[:port]`, `[ipv6]:port`, inet_aton legacy
 * IPv4 forms, /etc/hosts names (IPv4 only) and /etc/services port names.
 */

import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from "../../conntrack/states.ts";
import {
  type Family,
  type IpAddr,
  ipv4FromU32,
  ipv6FromWords,
  parseInetAton,
  parseIpv6,
} from "../../model/addr.ts";
import type { NameDb } from "./names.ts";
import { stringToNumber } from "./numbers.ts";

export { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP };

export interface HostPort {
  af: Family;
  addr: IpAddr;
  /** null when the text had no port part */
  port: number | null;
}

/** libc protocol name for getservbyname/getservbyport, or null (no lookup is made). */
export function protoName(protocol: number): string | null {
  if (protocol === IPPROTO_TCP) return "tcp";
  if (protocol === IPPROTO_UDP) return "udp";
  if (protocol === IPPROTO_SCTP) return "sctp";
  return null;
}

/** glibc inet_aton also accepts anything after the first blank ("1.2.3.4 junk"). */
function inetAton(text: string): number | null {
  const cut = text.search(/[ \t\n\v\f\r]/);
  return parseInetAton(cut >= 0 ? text.slice(0, cut) : text);
}

/** inet_aton, then gethostbyname (IPv4) — ipvsadm's order for hosts and netmasks. */
export function hostToU32(text: string, names: NameDb): number | null {
  return inetAton(text) ?? names.hostByName4(text);
}

function servicePort(text: string, protocol: number, names: NameDb): number | null {
  const n = stringToNumber(text, 0, 65535);
  if (n !== -1) return n;
  const proto = protoName(protocol);
  return proto === null ? null : names.portByService(text, proto);
}

/** parse_service(); null = not SERVICE_ADDR (the caller prints its own message). */
export function parseHostPort(text: string, protocol: number, names: NameDb): HostPort | null {
  if (/^[0-9]*$/.test(text)) return null; // str_is_digit(), true for "" too
  let buf = text;
  let portText: string | null = null;
  if (buf.startsWith("[")) {
    buf = buf.slice(1);
    const end = buf.indexOf("]");
    if (end < 0 || buf[end + 1] !== ":") return null;
    portText = buf.slice(end + 2);
    buf = buf.slice(0, end);
  }
  let addr: IpAddr;
  const v6 = parseIpv6(buf);
  if (v6) addr = ipv6FromWords(v6);
  else {
    // The bracket's port is forgotten here: only a ':' inside the host text splits (ipvsadm quirk).
    const colon = buf.lastIndexOf(":");
    portText = colon >= 0 ? buf.slice(colon + 1) : null;
    if (colon >= 0) buf = buf.slice(0, colon);
    const v4 = hostToU32(buf, names);
    if (v4 === null) return null;
    addr = ipv4FromU32(v4);
  }
  if (portText === null) return { af: addr.af, addr, port: null };
  const port = servicePort(portText, protocol, names);
  return port === null ? null : { af: addr.af, addr, port };
}
