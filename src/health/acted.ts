/**
 * The rules loader warns that checker blocks and health keywords are "kept but not acted on":
 * with the health runner they are acted on, so the daemon drops exactly those warnings. (The
 * loader's wording is matched; BFD_CHECK and FILE_CHECK, which uvs does not run, keep theirs.)
 */
import type { Diagnostic } from "../rules/model.ts";
import { CHECKERS } from "./registry.ts";

const ACTED = new Set([
  "delay_loop",
  "connect_timeout",
  "retry",
  "delay_before_retry",
  "warmup",
  "inhibit_on_failure",
  "alpha",
  "omega",
  "quorum",
  "hysteresis",
  "quorum_up",
  "quorum_down",
  "sorry_server",
  "sorry_server_inhibit",
  "virtualhost",
  "notify_up",
  "notify_down",
]);

export function actedOnByHealth(d: Diagnostic): boolean {
  if (d.severity !== "warning") return false;
  const checker = /^health checker '(\w+)' is kept but uvs does not run checkers yet$/.exec(d.message);
  if (checker) return checker[1] in CHECKERS;
  const kept = /^'(\w+)' in (virtual_server|real_server) is kept but uvs does not act on it yet$/.exec(
    d.message,
  );
  return kept !== null && ACTED.has(kept[1]);
}
