/**
 * Per-protocol connection states as IPVS keeps them (ip_vs_proto_{tcp,udp,sctp}.c): names exactly
 * as /proc/net/ip_vs_conn prints them, default timeouts, and TCP's transition tables.
 */
export const IPPROTO_IP = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_SCTP = 132;

/** ip_vs_proto_name(): what -c prints in the `pro` column. */
export function protoName(proto: number): string {
  switch (proto) {
    case IPPROTO_IP:
      return "IP";
    case IPPROTO_TCP:
      return "TCP";
    case IPPROTO_UDP:
      return "UDP";
    case IPPROTO_SCTP:
      return "SCTP";
    case IPPROTO_ICMP:
      return "ICMP";
    case IPPROTO_ICMPV6:
      return "ICMPv6";
    default:
      return `IP_${proto}`;
  }
}

export function protoNumber(name: string): number | null {
  switch (name.toLowerCase()) {
    case "ip":
      return IPPROTO_IP;
    case "tcp":
      return IPPROTO_TCP;
    case "udp":
      return IPPROTO_UDP;
    case "sctp":
      return IPPROTO_SCTP;
    case "icmp":
      return IPPROTO_ICMP;
    case "icmpv6":
      return IPPROTO_ICMPV6;
  }
  const m = /^IP_(\d{1,3})$/.exec(name);
  return m && Number(m[1]) < 256 ? Number(m[1]) : null;
}

export enum Tcp {
  NONE = 0,
  ESTABLISHED = 1,
  SYN_SENT = 2,
  SYN_RECV = 3,
  FIN_WAIT = 4,
  TIME_WAIT = 5,
  CLOSE = 6,
  CLOSE_WAIT = 7,
  LAST_ACK = 8,
  LISTEN = 9,
  SYNACK = 10,
}

export const TCP_STATE_NAMES = [
  "NONE",
  "ESTABLISHED",
  "SYN_SENT",
  "SYN_RECV",
  "FIN_WAIT",
  "TIME_WAIT",
  "CLOSE",
  "CLOSE_WAIT",
  "LAST_ACK",
  "LISTEN",
  "SYNACK",
] as const;

/** Seconds; `--set` changes ESTABLISHED (tcp), FIN_WAIT (tcpfin) and UDP. */
export const TCP_DEFAULT_TIMEOUTS = [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120];

/** tcp_state_active_table: these states count in ActiveConn. */
const TCP_ACTIVE = [false, true, true, true, false, false, false, false, false, false, true];
export function tcpStateActive(state: number): boolean {
  return TCP_ACTIVE[state] === true;
}

export enum Dir {
  INPUT = 0,
  OUTPUT = 1,
  INPUT_ONLY = 2,
}
export enum TcpEvent {
  SYN = 0,
  FIN = 1,
  ACK = 2,
  RST = 3,
}

// Rows: [direction][event] → next state indexed by the current state (NO ES SS SR FW TW CL CW LA LI SA).
// (NONE and SYNACK are never a target in the normal table; the DoS table of secure_tcp is not used.)
const ES = 1,
  SS = 2,
  SR = 3,
  FW = 4,
  TW = 5,
  CL = 6,
  CW = 7,
  LA = 8,
  LI = 9;
const TCP_TABLE: number[][][] = [
  [
    [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
    [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
  ],
  [
    [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
    [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
    [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
  ],
  [
    [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
    [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
  ],
];

/** Next TCP state; `event` null (no SYN/FIN/ACK/RST bit) always gives CLOSE, as in set_tcp_state. */
export function tcpNextState(dir: Dir, event: TcpEvent | null, cur: number): number {
  if (event === null) return Tcp.CLOSE;
  return TCP_TABLE[dir][event][cur] ?? Tcp.CLOSE;
}

/** Event from TCP flags with the kernel's priority RST > SYN > FIN > ACK. */
export function tcpEventFromFlags(syn: boolean, fin: boolean, ack: boolean, rst: boolean): TcpEvent | null {
  if (rst) return TcpEvent.RST;
  if (syn) return TcpEvent.SYN;
  if (fin) return TcpEvent.FIN;
  if (ack) return TcpEvent.ACK;
  return null;
}

export const UDP_STATE_NAMES = ["UDP"] as const;
export const UDP_DEFAULT_TIMEOUT = 300;

export const SCTP_STATE_NAMES = [
  "NONE",
  "INIT1",
  "INIT",
  "C-SENT",
  "C-REPLIED",
  "C-WAIT",
  "COOKIE",
  "C-ECHOED",
  "ESTABLISHED",
  "S-SENT",
  "S-RECEIVED",
  "S-ACK-SENT",
  "REJECTED",
  "CLOSED",
] as const;
export const SCTP_ESTABLISHED = 8;
export const SCTP_DEFAULT_TIMEOUTS = [2, 4, 61, 61, 61, 61, 61, 61, 900, 61, 61, 61, 4, 61];

/** Template (persistence) states: ip_vs_ctpl_state_name_table. */
export const TEMPLATE_STATE_NAMES = ["NONE", "ASSURED"] as const;

/** State names a protocol's entries may carry (templates use TEMPLATE_STATE_NAMES). */
export function stateNames(proto: number): readonly string[] {
  if (proto === IPPROTO_TCP) return TCP_STATE_NAMES;
  if (proto === IPPROTO_UDP) return UDP_STATE_NAMES;
  if (proto === IPPROTO_SCTP) return SCTP_STATE_NAMES;
  return TEMPLATE_STATE_NAMES;
}

/** The three timeouts `--set`/`--timeout` speak of, plus the full per-state tables they edit. */
export class Timeouts {
  readonly tcp: number[] = [...TCP_DEFAULT_TIMEOUTS];
  readonly sctp: number[] = [...SCTP_DEFAULT_TIMEOUTS];
  udp = UDP_DEFAULT_TIMEOUT;

  /** `ipvsadm --set tcp tcpfin udp`; 0 keeps the current value. */
  set(tcp: number, tcpfin: number, udp: number): void {
    if (tcp) this.tcp[Tcp.ESTABLISHED] = tcp;
    if (tcpfin) this.tcp[Tcp.FIN_WAIT] = tcpfin;
    if (udp) this.udp = udp;
  }

  get triple(): { tcp: number; tcpfin: number; udp: number } {
    return { tcp: this.tcp[Tcp.ESTABLISHED], tcpfin: this.tcp[Tcp.FIN_WAIT], udp: this.udp };
  }

  /** Seconds an entry of `proto` in `state` lives without traffic. */
  of(proto: number, state: number): number {
    if (proto === IPPROTO_TCP) return this.tcp[state] ?? 2;
    if (proto === IPPROTO_UDP) return this.udp;
    if (proto === IPPROTO_SCTP) return this.sctp[state] ?? 2;
    return this.udp;
  }
}
