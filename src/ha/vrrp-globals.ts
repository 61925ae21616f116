/**
 * The VRRP keys of keepalived's `global_defs` (spec keepalived.md §1.4): defaults every
 * vrrp_instance starts from. Other global_defs keys belong to other modules and are skipped here.
 */
import type { IpAddr } from "../model/addr.ts";
import type { Stmt } from "../rules/cst.ts";
import { table } from "../util/table.ts";
import { flagStmt, intStmt, ipStmt, secondsStmt, type VCtx } from "./vrrp-config-values.ts";
import { VRRP_MCAST4, VRRP_MCAST6, type VrrpVersion } from "./vrrp-packet.ts";

/** Gratuitous ARP policy (spec §3.6). Times in milliseconds. */
export interface GarpSettings {
  /** Second burst after becoming master (5 s); 0 = none. */
  masterDelayMs: number;
  /** GARPs per VIP in each burst (5). */
  masterRepeat: number;
  /** Second burst after hearing a lower priority as master (= masterDelayMs). */
  lowerPrioDelayMs: number;
  lowerPrioRepeat: number;
  /** Periodic refresh while master (0 = off). */
  masterRefreshMs: number;
  masterRefreshRepeat: number;
  /** vrrp_min_garp: one GARP, no second burst. */
  minGarp: boolean;
}

export interface VrrpGlobals {
  version: VrrpVersion;
  mcastGroup4: IpAddr;
  mcastGroup6: IpAddr;
  garp: GarpSettings;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  skipCheckAdvAddr: boolean;
  checkUnicastSrc: boolean;
}

export function defaultGlobals(): VrrpGlobals {
  return {
    version: 2,
    mcastGroup4: VRRP_MCAST4,
    mcastGroup6: VRRP_MCAST6,
    garp: {
      masterDelayMs: 5000,
      masterRepeat: 5,
      lowerPrioDelayMs: 5000,
      lowerPrioRepeat: 5,
      masterRefreshMs: 0,
      masterRefreshRepeat: 1,
      minGarp: false,
    },
    lowerPrioNoAdvert: false,
    higherPrioSendAdvert: false,
    skipCheckAdvAddr: false,
    checkUnicastSrc: false,
  };
}

type Setter = (ctx: VCtx, s: Stmt, g: VrrpGlobals, seen: Set<string>) => void;

const GLOBAL_KEYS: Record<string, Setter> = table({
  vrrp_version: (ctx, s, g) => {
    g.version = (intStmt(ctx, s, 2, 3) ?? g.version) as VrrpVersion;
  },
  vrrp_mcast_group4: (ctx, s, g) => {
    const a = ipStmt(ctx, s);
    if (a) g.mcastGroup4 = a;
  },
  vrrp_mcast_group6: (ctx, s, g) => {
    const a = ipStmt(ctx, s);
    if (a) g.mcastGroup6 = a;
  },
  vrrp_garp_master_delay: (ctx, s, g) => {
    g.garp.masterDelayMs = secondsStmt(ctx, s, 0, 1000) ?? g.garp.masterDelayMs;
  },
  vrrp_garp_master_repeat: (ctx, s, g) => {
    g.garp.masterRepeat = intStmt(ctx, s, 1, 10000) ?? g.garp.masterRepeat;
  },
  vrrp_garp_lower_prio_delay: (ctx, s, g) => {
    g.garp.lowerPrioDelayMs = secondsStmt(ctx, s, 0, 1000) ?? g.garp.lowerPrioDelayMs;
  },
  vrrp_garp_lower_prio_repeat: (ctx, s, g) => {
    g.garp.lowerPrioRepeat = intStmt(ctx, s, 1, 10000) ?? g.garp.lowerPrioRepeat;
  },
  vrrp_garp_master_refresh: (ctx, s, g) => {
    g.garp.masterRefreshMs = secondsStmt(ctx, s, 0, 100000) ?? g.garp.masterRefreshMs;
  },
  vrrp_garp_master_refresh_repeat: (ctx, s, g) => {
    g.garp.masterRefreshRepeat = intStmt(ctx, s, 1, 10000) ?? g.garp.masterRefreshRepeat;
  },
  vrrp_min_garp: (ctx, s, g) => {
    g.garp.minGarp = flagStmt(ctx, s) ?? g.garp.minGarp;
  },
  vrrp_lower_prio_no_advert: (ctx, s, g) => {
    g.lowerPrioNoAdvert = flagStmt(ctx, s) ?? g.lowerPrioNoAdvert;
  },
  vrrp_higher_prio_send_advert: (ctx, s, g) => {
    g.higherPrioSendAdvert = flagStmt(ctx, s) ?? g.higherPrioSendAdvert;
  },
  vrrp_skip_check_adv_addr: (ctx, s, g) => {
    g.skipCheckAdvAddr = flagStmt(ctx, s) ?? g.skipCheckAdvAddr;
  },
  vrrp_check_unicast_src: (_ctx, _s, g) => {
    g.checkUnicastSrc = true;
  },
});

/** Read the VRRP keys of every global_defs block (later ones win, as keepalived reads them). */
export function globalVrrp(ctx: VCtx, blocks: readonly Stmt[]): VrrpGlobals {
  const g = defaultGlobals();
  const seen = new Set<string>();
  for (const b of blocks) {
    for (const s of b.block?.body ?? []) {
      GLOBAL_KEYS[s.keyword.text]?.(ctx, s, g, seen);
      seen.add(s.keyword.text);
    }
  }
  // garp_lower_prio_* default to the garp_master_* values (spec §1.4)
  if (!seen.has("vrrp_garp_lower_prio_delay")) g.garp.lowerPrioDelayMs = g.garp.masterDelayMs;
  if (!seen.has("vrrp_garp_lower_prio_repeat")) g.garp.lowerPrioRepeat = g.garp.masterRepeat;
  return g;
}
