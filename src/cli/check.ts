/**
 * `uvs check FILE`: validate a rules file without touching anything (like `keepalived -t` or
 * `nginx -t`). Every error and warning is printed as `FILE:LINE:COL: severity: message`, then a
 * summary line. Exit 0 when the file is usable, 1 when it is not, 2 on a usage error.
 */

import { rulesChecks } from "../daemon/rules-checks.ts";
import { diskReader, loadRules, type RulesReader } from "../rules/load.ts";
import { formatDiagnostic, sortDiagnostics } from "../rules/model.ts";
import { plural } from "../util/plural.ts";
import type { NameDb } from "./ipvsadm/names.ts";

export interface CheckIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** File access (default: the disk). */
  reader?: RulesReader;
  names?: NameDb;
}

export const CHECK_USAGE = "usage: uvs check [--quiet] FILE\n";

export function runCheck(args: readonly string[], io: CheckIo): number {
  const quiet = args.includes("--quiet") || args.includes("-q");
  const files = args.filter((a) => a !== "--quiet" && a !== "-q");
  if (files.length !== 1 || files[0].startsWith("-")) {
    io.stderr(CHECK_USAGE);
    return 2;
  }
  const file = files[0];
  const r = loadRules(file, io.reader ?? diskReader, io.names);
  // What the daemon checks beyond the parser (VRRP, lvs_sync_daemon, checker settings) counts too.
  const all = r.config
    ? sortDiagnostics([...r.diagnostics, ...rulesChecks(r.config).diagnostics], r.config.files)
    : r.diagnostics;
  const errs = all.filter((d) => d.severity === "error").length;
  const warns = all.length - errs;
  for (const d of all) {
    if (!quiet || d.severity === "error") io.stderr(`${formatDiagnostic(d)}\n`);
  }
  const counts = `${plural(errs, "error")}, ${plural(warns, "warning")}`;
  if (!r.config || errs > 0) {
    io.stdout(`${file}: not usable: ${counts}; nothing would be applied\n`);
    return 1;
  }
  const c = r.config;
  const dests = c.services.reduce((n, s) => n + s.dests.length, 0);
  io.stdout(
    `${file}: ok (${c.dialect} syntax): ${plural(c.services.length, "virtual service")}, ${plural(dests, "real server")}; ${counts}\n`,
  );
  return 0;
}
