/**
 * Which keywords each block may hold: those uvs acts on, and keepalived's keywords uvs keeps (in
 * the model and through write-back) but does not act on yet — those get a warning naming them.
 * Anything else is an error, with a "did you mean" when it is close to a known keyword:
 * keepalived ignores unknown keywords silently, which hides typos (its most reported pain).
 */
import { table } from "../util/table.ts";

/** Top-level keywords uvs acts on. */
export const TOP_ACTED = new Set([
  "virtual_server",
  "virtual_server_group",
  "include",
  "includer",
  "includem",
  "includew",
  "includeb",
  "includea",
]);

/** keepalived's other top-level blocks and keywords (§1.3): kept, not acted on yet. */
export const TOP_KEPT = new Set([
  "global_defs",
  "linkbeat_interfaces",
  "track_group",
  "static_ipaddress",
  "static_routes",
  "static_rules",
  "track_file",
  "vrrp_track_process",
  "bfd_instance",
  "vrrp_script",
  "vrrp_sync_group",
  "garp_group",
  "vrrp_instance",
  "interface_up_down_delays",
  "SSL",
  "net_namespace",
  "net_namespace_ipvs",
  "namespace_with_ipsets",
  "instance",
  "use_pid_dir",
  "child_wait_time",
]);

/** Top-level blocks kept here and acted on by the VRRP runtime (src/ha): no "not acted on" warning. */
export const TOP_VRRP: ReadonlySet<string> = new Set(["vrrp_instance", "vrrp_script", "vrrp_sync_group"]);

/** virtual_server keywords uvs acts on (uvs's own: proxy_listen, proxy_protocol). */
export const VS_ACTED = new Set([
  "lvs_sched",
  "lb_algo",
  "lvs_method",
  "lb_kind",
  "protocol",
  "persistence_timeout",
  "persistence_granularity",
  "persistence_engine",
  "ops",
  "flag-1",
  "flag-2",
  "flag-3",
  "sh-port",
  "sh-fallback",
  "mh-port",
  "mh-fallback",
  "hashed",
  "weight",
  "ip_family",
  "real_server",
  "proxy_listen",
  "proxy_protocol",
]);

/**
 * Service and real-server keywords the health runner acts on (src/health: runner, overlay). They
 * are kept in the model and, unlike other kept keywords, draw no "not acted on" warning.
 */
export const HEALTH_KEYWORDS: ReadonlySet<string> = new Set([
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

/** virtual_server keywords kept for other parts of uvs (health, quorum, notifications). */
export const VS_KEPT = new Set([
  ...[...HEALTH_KEYWORDS].filter((k) => k !== "notify_up" && k !== "notify_down"),
  "sorry_server_lvs_method",
  "ha_suspend",
  "smtp_alert",
  "snmp_name",
]);

export const RS_ACTED = new Set([
  "weight",
  "lvs_method",
  "lb_kind",
  "uthreshold",
  "lthreshold",
  "proxy_protocol",
]);

/** Checker types the health runner runs (src/health/registry.ts lists their implementations). */
export const RUN_CHECKERS: ReadonlySet<string> = new Set([
  "TCP_CHECK",
  "HTTP_GET",
  "SSL_GET",
  "SMTP_CHECK",
  "DNS_CHECK",
  "UDP_CHECK",
  "PING_CHECK",
  "MISC_CHECK",
]);

/** Every checker keepalived knows; BFD_CHECK and FILE_CHECK are kept but not run. */
export const CHECKERS = new Set([...RUN_CHECKERS, "BFD_CHECK", "FILE_CHECK"]);

export const RS_KEPT = new Set([
  "inhibit_on_failure",
  "notify_up",
  "notify_down",
  "alpha",
  "retry",
  "delay_before_retry",
  "warmup",
  "connect_timeout",
  "delay_loop",
  "smtp_alert",
  "virtualhost",
  "snmp_name",
]);

const SOCKET_COMMON = [
  "connect_ip",
  "connect_port",
  "bindto",
  "bind_port",
  "bind_if",
  "fwmark",
  "connect_timeout",
  "retry",
  "delay_before_retry",
  "warmup",
  "delay_loop",
  "alpha",
  "log_all_failures",
];
const NON_SOCKET_COMMON = [
  "retry",
  "delay_before_retry",
  "warmup",
  "delay_loop",
  "alpha",
  "log_all_failures",
];
const HTTP = ["url", "virtualhost", "http_protocol", "fast_recovery", "nb_get_retry"];

/** Keywords each checker block may hold (§1.8). */
export const CHECKER_KEYWORDS: Readonly<Record<string, ReadonlySet<string>>> = table({
  TCP_CHECK: new Set(SOCKET_COMMON),
  HTTP_GET: new Set([...SOCKET_COMMON, ...HTTP]),
  SSL_GET: new Set([...SOCKET_COMMON, ...HTTP, "enable_sni", "sni_name", "tls_compliant"]),
  SMTP_CHECK: new Set([...SOCKET_COMMON, "helo_name", "host"]),
  DNS_CHECK: new Set([...SOCKET_COMMON, "type", "name"]),
  UDP_CHECK: new Set([...SOCKET_COMMON, "payload", "require_reply", "min_reply_length", "max_reply_length"]),
  PING_CHECK: new Set(SOCKET_COMMON),
  MISC_CHECK: new Set([...NON_SOCKET_COMMON, "misc_path", "misc_timeout", "misc_dynamic", "user"]),
  BFD_CHECK: new Set(["name", "alpha"]),
  FILE_CHECK: new Set(["track_file", "weight", "dynamic"]),
});

/**
 * Keywords that configurations written for keepalived 1 still carry (tutorials copy them on) and
 * that keepalived 2 logs as unknown and ignores. Refusing them would refuse most such files, so they
 * are warnings and ignored as keepalived does; any other unknown keyword stays an error.
 */
const LEGACY_IGNORED: Readonly<Record<string, Readonly<Record<string, string>>>> = table({
  virtual_server: table({
    nat_mask: "'nat_mask' is keepalived 1's and has no effect; keepalived 2 ignores it, and so does uvs",
  }),
  ...Object.fromEntries(
    ["TCP_CHECK", "SMTP_CHECK", "DNS_CHECK", "UDP_CHECK", "PING_CHECK", "MISC_CHECK"].map((c) => [
      c,
      table({ nb_get_retry: nbGetRetry(c) }),
    ]),
  ),
});

function nbGetRetry(where: string): string {
  return `'nb_get_retry' is only HTTP_GET/SSL_GET's old name for 'retry': keepalived ignores it in ${where}, and so does uvs (write 'retry N' to retry)`;
}

/** The warning for a keepalived 1 keyword ignored in block `where`, or null when it is not one. */
export function legacyIgnored(where: string, keyword: string): string | null {
  return LEGACY_IGNORED[where]?.[keyword] ?? null;
}

export const URL_KEYWORDS = new Set([
  "path",
  "digest",
  "status_code",
  "virtualhost",
  "regex",
  "regex_no_match",
  "regex_options",
  "regex_min_offset",
  "regex_max_offset",
]);

/** Optimal string alignment distance (a transposition counts one edit). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known keyword `word` is most likely a typo of, if any (case-insensitive, ≤ 2 edits). */
export function suggest(word: string, known: Iterable<string>): string | null {
  if (word.length > 64) return null;
  const w = word.toLowerCase();
  let best: string | null = null;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const limit = k.length <= 4 ? 1 : 2;
    const dist = editDistance(w, k.toLowerCase());
    if (dist <= limit && dist < bestD) {
      best = k;
      bestD = dist;
    }
  }
  return best;
}

/** "unknown keyword 'x'" with a suggestion when one is close. */
export function unknownKeyword(word: string, where: string, known: Iterable<string>): string {
  const s = suggest(word, known);
  const hint = s ? `; did you mean '${s}'?` : "";
  return `unknown keyword '${word}' in ${where}${hint}`;
}
