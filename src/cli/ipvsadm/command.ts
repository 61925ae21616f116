/** The typed result of parsing one ipvsadm command line (ipvsadm's struct ipvs_command_entry). */
import type { Family, IpAddr } from "../../model/addr.ts";
import type { TunnelType } from "../../model/dest.ts";
import type { CmdName, OptName } from "./options.ts";

export interface SvcSpec {
  /** null until a service option sets it (the C struct starts zeroed). */
  af: Family | null;
  /** IP protocol number; fwmark services carry TCP internally. */
  protocol: number;
  addr: IpAddr | null;
  port: number;
  fwmark: number;
  /** IPv4: host-order u32 mask; IPv6: prefix length. */
  netmask: number;
  schedName: string;
  flags: number;
  timeout: number;
  peName: string;
}

export type Forward = "masq" | "route" | "tunnel";

export interface DestSpec {
  af: Family | null;
  addr: IpAddr | null;
  port: number;
  forward: Forward | null;
  weight: number;
  uThreshold: number;
  lThreshold: number;
  tunType: TunnelType;
  tunPort: number;
  /** IP_VS_TUNNEL_ENCAP_FLAG_*: 0 nocsum, 1 csum, 2 remcsum (OR-ed as ipvsadm does). */
  tunFlags: number;
}

export interface DaemonSpec {
  state: "master" | "backup" | null;
  mcastIfn: string;
  syncid: number;
  maxlen?: number;
  group?: IpAddr;
  port?: number;
  ttl?: number;
}

export interface ListFormat {
  numeric: boolean;
  stats: boolean;
  rate: boolean;
  thresholds: boolean;
  persistentConn: boolean;
  nosort: boolean;
  exact: boolean;
  tunInfo: boolean;
  /** -S: rule (save) format */
  rule: boolean;
}

export interface Command {
  cmd: CmdName;
  options: Set<OptName>;
  format: ListFormat;
  svc: SvcSpec;
  dest: DestSpec;
  timeouts: { tcp: number; tcpfin: number; udp: number };
  daemon: DaemonSpec;
}

export function emptyFormat(): ListFormat {
  return {
    numeric: false,
    stats: false,
    rate: false,
    thresholds: false,
    persistentConn: false,
    nosort: false,
    exact: false,
    tunInfo: false,
    rule: false,
  };
}

export function newCommand(cmd: CmdName): Command {
  return {
    cmd,
    options: new Set(),
    format: emptyFormat(),
    svc: {
      af: null,
      protocol: 0,
      addr: null,
      port: 0,
      fwmark: 0,
      netmask: 0xffffffff,
      schedName: "",
      flags: 0,
      timeout: 0,
      peName: "",
    },
    dest: {
      af: null,
      addr: null,
      port: 0,
      forward: null,
      weight: 1,
      uThreshold: 0,
      lThreshold: 0,
      tunType: "ipip",
      tunPort: 0,
      tunFlags: 0,
    },
    timeouts: { tcp: 0, tcpfin: 0, udp: 0 },
    daemon: { state: null, mcastIfn: "", syncid: 0 },
  };
}
