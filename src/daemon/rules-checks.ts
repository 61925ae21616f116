/**
 * What a rules file must pass beyond its parser, for the daemon and `uvs check` alike: the VRRP
 * instances, global_defs `lvs_sync_daemon` against them (errors: the file is refused), and the
 * health checkers' settings (a value that cannot be read falls back to the default, with a
 * warning). Kept out of src/rules so the parser does not depend on the HA and sync layers.
 */
import { type VrrpConfig, vrrpConfig } from "../ha/vrrp-config.ts";
import { destHealth, type SettingsProblem, serviceHealth } from "../rules/health-settings.ts";
import { type Diagnostic, Diagnostics, type RulesConfig } from "../rules/model.ts";
import { type LvsSyncd, lvsSyncdOf } from "../sync/lvs-syncd.ts";

export interface RulesChecks {
  diagnostics: Diagnostic[];
  vrrp: VrrpConfig;
  lvsSyncd: LvsSyncd | null;
}

export function rulesChecks(config: RulesConfig): RulesChecks {
  const diags = new Diagnostics();
  const vrrp = vrrpConfig(config.blocks, diags);
  const defs = config.blocks.filter((b) => b.keyword.text === "global_defs");
  const lvsSyncd = lvsSyncdOf(defs, vrrp.instances, diags);
  const problems: SettingsProblem[] = [];
  for (const s of config.services) {
    serviceHealth(s, problems);
    for (const d of s.dests) destHealth(s, d, problems);
  }
  for (const p of problems) diags.warn(p.pos, p.message);
  return { diagnostics: diags.list, vrrp, lvsSyncd };
}
