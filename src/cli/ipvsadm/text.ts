/** printf-style padding and ipvsadm's number and address renderings. */
import type { Family, IpAddr } from "../../model/addr.ts";
import { protoName } from "./hostport.ts";
import type { NameDb } from "./names.ts";

/** %-Ns */
export const left = (s: string | number | bigint, n: number) => String(s).padEnd(n);
/** %Ns */
export const right = (s: string | number | bigint, n: number) => String(s).padStart(n);

/** print_largenum(): 9 columns, K/M/G/T scaled unless exact (then at least one leading blank). */
export function largenum(v: bigint, exact: boolean): string {
  if (exact) {
    const s = v.toString();
    return s.padStart(s.length <= 8 ? 9 : s.length + 1);
  }
  if (v < 100000000n) return right(v, 9);
  if (v < 1000000000n) return `${right(v / 1000n, 8)}K`;
  if (v < 100000000000n) return `${right(v / 1000000n, 8)}M`;
  if (v < 100000000000000n) return `${right(v / 1000000000n, 8)}G`;
  return `${right(v / 1000000000000n, 8)}T`;
}

/** A u32 printed with %d. */
export const signed32 = (v: number) => v | 0;

/** addrport_to_anyname(): numeric or /etc/hosts + /etc/services names; snprintf(buf, 60) cut. */
export function addrPort(
  af: Family,
  addr: IpAddr,
  port: number,
  protocol: number,
  numeric: boolean,
  names: NameDb,
): string {
  let host = addr.text;
  let portText = String(port);
  if (!numeric) {
    host = names.nameByAddr(addr) ?? host;
    const proto = protoName(protocol);
    portText = (proto && names.serviceByPort(port, proto)) || portText;
  }
  const s = af === "inet6" ? `[${host}]:${portText}` : `${host}:${portText}`;
  return s.slice(0, 59);
}
