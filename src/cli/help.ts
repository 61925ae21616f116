export const UVS_VERSION = "uvs 0.1.0 (ipvsadm v1.31 compatible, IPVS 1.2.1 semantics of Linux 6.12)";

export const UVS_HELP = `uvs — a userspace Linux Virtual Server

Usage:
  uvs [--state FILE] ipvsadm ARGS…    ipvsadm 1.31, byte for byte (uvs ipvsadm -h for its help)
  uvs [--state FILE] -OPTION …        the same: a first argument that is an option means ipvsadm
  uvs simulate --state FILE [--seed N] < ops.jsonl
                                      scheduling decisions without traffic (JSON lines in and out)
  uvs demo [RULES]                    load an ipvsadm save file (default rules/demo.conf) into an
                                      empty table and print its ipvsadm -Ln listing
  uvs version | help

Global options:
  --state FILE    work on the state snapshot FILE (uvs-state/1 JSON) instead of a running daemon;
                  also UVS_STATE=FILE. Changing commands write FILE back atomically; a FILE that
                  does not exist yet starts as an empty table.

Not yet built: the daemon (uvs run), its control socket, the proxy and packet data planes, health
checks, VRRP, the TUI and uvs bench. Until the daemon exists, ipvsadm commands need --state.
`;
