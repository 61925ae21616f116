import { type Family, formatAddrPort, type IpAddr } from "./addr.ts";
import type { RateEstimator } from "./rate.ts";
import type { Service } from "./service.ts";
import { Counters } from "./stats.ts";

/** ipvsadm's forwarding names: -m masq, -g route (DR), -i tunnel; `local` only on old kernels. */
export type ForwardMethod = "masq" | "local" | "tunnel" | "route";
export type TunnelType = "ipip" | "gue" | "gre";
export type TunnelCsum = "nocsum" | "csum" | "remcsum";

/** What `ipvsadm -a/-e` sets on a real server (every field is sent on -e). */
export interface DestConfig {
  af: Family;
  addr: IpAddr;
  port: number;
  forward: ForwardMethod;
  weight: number;
  uThreshold: number;
  lThreshold: number;
  tunnelType: TunnelType;
  tunnelPort: number;
  tunnelCsum: TunnelCsum;
}

/**
 * A real server inside one service, with the kernel's runtime fields. Schedulers read weight,
 * counts and flags; the director owns every mutation.
 */
export class Dest implements DestConfig {
  af: Family;
  addr: IpAddr;
  port: number;
  forward: ForwardMethod;
  weight: number;
  /** Last non-zero weight (set on add even when 0); mh builds its table from it. */
  lastWeight: number;
  uThreshold: number;
  lThreshold: number;
  tunnelType: TunnelType;
  tunnelPort: number;
  tunnelCsum: TunnelCsum;
  activeConns = 0;
  inactConns = 0;
  persistConns = 0;
  /** IP_VS_DEST_F_OVERLOAD: set by the upper threshold rule. */
  overloaded = false;
  /** IP_VS_DEST_F_AVAILABLE: cleared when the dest is deleted (it may live on in the trash). */
  available = true;
  /** Connection entries (templates included) bound to this dest; a deleted dest lives on while > 0. */
  refs = 0;
  /** The service this dest belongs to (kept while the dest sits in the trash). */
  svc: Service | null = null;
  /** Director clock (ms) when the dest was deleted; null while it is in its service. */
  deletedAt: number | null = null;
  readonly stats = new Counters();
  est: RateEstimator;
  /** `addr:port` / `[addr]:port`, the key inside its service. */
  readonly key: string;

  constructor(cfg: DestConfig, est: RateEstimator) {
    this.af = cfg.af;
    this.addr = cfg.addr;
    this.port = cfg.port;
    this.forward = cfg.forward;
    this.weight = cfg.weight;
    this.lastWeight = cfg.weight;
    this.uThreshold = cfg.uThreshold;
    this.lThreshold = cfg.lThreshold;
    this.tunnelType = cfg.tunnelType;
    this.tunnelPort = cfg.tunnelPort;
    this.tunnelCsum = cfg.tunnelCsum;
    this.est = est;
    this.key = formatAddrPort(cfg.addr, cfg.port);
  }

  /** Active + inactive connections (templates not counted), as the threshold rules use. */
  totalConns(): number {
    return this.activeConns + this.inactConns;
  }
}
