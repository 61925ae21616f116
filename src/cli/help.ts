export const UVS_VERSION = "uvs 0.1.0 (ipvsadm v1.31 compatible, IPVS 1.2.1 semantics of Linux 6.12)";

export const UVS_HELP = `uvs — a userspace Linux Virtual Server

Usage:
  uvs run [--rules FILE] [--control SOCKET] [--metrics ADDR:PORT] [--drain S] [--no-watch]
          [--dataplane proxy|packet --interface IF… [--auto-sysctl]]
                                      the daemon: rules file (default /etc/uvs/uvs.conf), control
                                      socket (default /run/uvs/uvs.sock), VRRP and connection sync;
                                      the proxy data plane (default, NAT-like, unprivileged) or the
                                      packet data plane (root, Linux: real NAT, DR and TUN frames)
  uvs [--state FILE] ipvsadm ARGS…    ipvsadm 1.31, byte for byte, against the daemon (or a snapshot)
  uvs [--state FILE] -OPTION …        the same: a first argument that is an option means ipvsadm
  uvs [tui]                           the terminal UI (plain uvs on a terminal): services, connections,
                                      health, bench, events; --state FILE renders a snapshot
  uvs check FILE                      validate a rules file (errors and warnings with positions)
  uvs health [--json]                 every real server's checkers: state, last result, since when
  uvs ha [--json]                     VRRP instances: state, priority, master, since, last transitions
  uvs import ldirectord FILE          print the equivalent rules file (keepalived syntax)
  uvs import ipvsadm < SAVEFILE       the same for ipvsadm's save format
  uvs reload [--dry-run]              reload the daemon's rules file, or print what it would change
  uvs snapshot                        the daemon's state as uvs-state/1 JSON
  uvs simulate --state FILE [--seed N] < ops.jsonl
                                      scheduling decisions without traffic (JSON lines in and out)
  uvs demo [--vip-port P] [--backend-ports A,B] [--duration S]
                                      the daemon on loopback with two built-in back ends
  uvs backend --port N --name NAME [--host ADDR] [--log FILE]
                                      a tiny HTTP real server that answers with its name
                                      (--log: one line per request with the client's address)
  uvs realserver up|down|check --vip VIP --mode dr|tun [--dev lo|tunl0]
                                      a DR/TUN real server's VIP and ARP/rp_filter settings, as
                                      the seeds' lvs_real scripts; check lists what is missing
  uvs lab up|down|status nat|dr|tun [--prefix P] [--no-http]
                                      the seeds' LVS labs in network namespaces (root)
  uvs bench [ab options] URL          ab-compatible load generator, http or https (ab 2.3's report,
                                      plus p99.9, errors by kind and the spread over real servers);
                                      --mode tcp-connect|udp for new connections/s and datagrams/s
  uvs version | help

Global options (before the command):
  --control SOCKET  the daemon's control socket (also UVS_CONTROL)
  --state FILE      work on the state snapshot FILE instead of the daemon (also UVS_STATE); changing
                    commands write FILE back atomically; a FILE that does not exist starts empty

Docs: README.md and docs/ (rules-file, packet-plane, labs, vrrp, sync, health, bench, tui).
`;
