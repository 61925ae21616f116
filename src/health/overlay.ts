/**
 * Health as the daemon's live overlay (§2.5–2.6), pure: the intended configuration and the health
 * view in, the configuration the live table should have out. A failed real server is removed, or
 * kept at weight 0 with inhibit_on_failure; a MISC_CHECK misc_dynamic weight replaces the
 * configured one; when the quorum is lost and a sorry server is set, it takes every new
 * connection (alive servers are removed, or kept at weight 0 when inhibited).
 */
import { formatAddrPort } from "../model/addr.ts";
import { serviceKey } from "../model/service.ts";
import { destHealth, serviceHealth } from "../rules/health-settings.ts";
import type { DestRule, RulesConfig, ServiceRule } from "../rules/model.ts";

export interface DestStatus {
  alive: boolean;
  /** A misc_dynamic weight, or null for the configured one. */
  weight: number | null;
}

export interface HealthView {
  /** undefined: no checker watches it (always alive). */
  dest(service: string, server: string): DestStatus | undefined;
  /** false when the quorum is lost (true when unknown). */
  quorum(service: string): boolean;
}

const withWeight = (d: DestRule, weight: number): DestRule =>
  d.config.weight === weight ? d : { ...d, config: { ...d.config, weight } };

function sorryDest(svc: ServiceRule): DestRule | null {
  const s = svc.sorryServer;
  if (!s) return null;
  const first = svc.dests[0]?.config;
  const port = s.port || (svc.id.kind === "addr" ? svc.id.port : 0);
  const config = {
    af: s.addr.af,
    addr: s.addr,
    port,
    forward: first?.forward ?? "masq",
    weight: 1,
    uThreshold: 0,
    lThreshold: 0,
    tunnelType: first?.tunnelType ?? "ipip",
    tunnelPort: first?.tunnelPort ?? 0,
    tunnelCsum: first?.tunnelCsum ?? "nocsum",
  } as const;
  return { config, proxyProtocol: null, pos: s.pos, checkers: [], kept: [], src: svc.src };
}

function serviceOverlay(svc: ServiceRule, view: HealthView): ServiceRule {
  const key = serviceKey(svc.id);
  const sh = serviceHealth(svc);
  const sorry = sorryDest(svc);
  const lost = sorry !== null && !view.quorum(key);
  const dests: DestRule[] = [];
  for (const d of svc.dests) {
    const server = formatAddrPort(d.config.addr, d.config.port);
    const st = view.dest(key, server);
    const alive = st?.alive ?? true;
    const inhibit = destHealth(svc, d).inhibit || sh.inhibit;
    if (alive && !lost) dests.push(withWeight(d, st?.weight ?? d.config.weight));
    else if (inhibit) dests.push(withWeight(d, 0));
  }
  if (sorry) {
    const taken = dests.some(
      (d) =>
        formatAddrPort(d.config.addr, d.config.port) === formatAddrPort(sorry.config.addr, sorry.config.port),
    );
    if (lost && !taken) dests.push(sorry);
    else if (sh.sorryInhibit && !taken) dests.push(withWeight(sorry, 0));
  }
  return { ...svc, dests };
}

export function applyHealth(config: RulesConfig, view: HealthView): RulesConfig {
  return { ...config, services: config.services.map((s) => serviceOverlay(s, view)) };
}
