/**
 * The seeds' three LVS labs as data: which namespaces exist, how their interfaces are wired and
 * addressed, routes and sysctls. Documentation addresses only (RFC 5737). build.ts turns this into
 * namespaces; docs/labs.md draws it.
 */
export type LabKind = "nat" | "dr" | "tun";
export const LAB_KINDS: readonly LabKind[] = ["nat", "dr", "tun"];

export type Role = "client" | "router" | "director" | "rs1" | "rs2";

/** One end of a wire: a role's interface, or a port of the lab's bridge. */
export type End = { role: Role; ifname: "eth0" | "eth1" };

export interface Wire {
  a: End;
  /** The other end: another node's interface, or the bridge in `<prefix>-br`. */
  b: End | "bridge";
}

export interface Node {
  role: Role;
  /** Interface → address with prefix length. */
  addrs: Partial<Record<"eth0" | "eth1", string>>;
  gateway?: string;
  /** Per-namespace sysctls the node needs (key → value). */
  sysctls: Record<string, string>;
  /** Real servers: their own address (what the HTTP server answers) and `uvs realserver` mode. */
  realServer?: { addr: string; mode?: "dr" | "tun" };
}

export interface Topology {
  kind: LabKind;
  vip: string;
  /** The director's interfaces uvs runs on (`--interface` each): NAT needs the real servers' side too. */
  directorIfs: ("eth0" | "eth1")[];
  nodes: Node[];
  wires: Wire[];
  /** Port the real servers' HTTP server listens on. */
  httpPort: number;
}

const CLIENT: Node = {
  role: "client",
  addrs: { eth0: "203.0.113.2/24" },
  gateway: "203.0.113.1",
  sysctls: {},
};
const rs = (role: "rs1" | "rs2", host: number, mode?: "dr" | "tun"): Node => ({
  role,
  addrs: { eth0: `192.0.2.${host}/24` },
  gateway: "192.0.2.1",
  sysctls: {},
  realServer: { addr: `192.0.2.${host}`, mode },
});
const onBridge = (role: Role, ifname: "eth0" | "eth1" = "eth0"): Wire => ({
  a: { role, ifname },
  b: "bridge",
});

/** NAT: the director is the real servers' gateway; its kernel must neither forward nor answer. */
function natLab(): Topology {
  return {
    kind: "nat",
    vip: "203.0.113.100",
    directorIfs: ["eth0", "eth1"],
    httpPort: 80,
    nodes: [
      CLIENT,
      {
        role: "director",
        addrs: { eth0: "203.0.113.1/24", eth1: "192.0.2.1/24" },
        sysctls: { "net.ipv4.ip_forward": "0" },
      },
      rs("rs1", 11),
      rs("rs2", 12),
    ],
    wires: [
      { a: { role: "client", ifname: "eth0" }, b: { role: "director", ifname: "eth0" } },
      onBridge("director", "eth1"),
      onBridge("rs1"),
      onBridge("rs2"),
    ],
  };
}

/** DR and TUN: client — router — one bridge with the director and the real servers. */
function sharedSegmentLab(kind: "dr" | "tun"): Topology {
  return {
    kind,
    vip: "192.0.2.100",
    directorIfs: ["eth0"],
    httpPort: 80,
    nodes: [
      CLIENT,
      {
        role: "router",
        addrs: { eth0: "203.0.113.1/24", eth1: "192.0.2.1/24" },
        sysctls: { "net.ipv4.ip_forward": "1" },
      },
      {
        role: "director",
        addrs: { eth0: "192.0.2.2/24" },
        gateway: "192.0.2.1",
        sysctls: { "net.ipv4.ip_forward": "0" },
      },
      rs("rs1", 11, kind),
      rs("rs2", 12, kind),
    ],
    wires: [
      { a: { role: "client", ifname: "eth0" }, b: { role: "router", ifname: "eth0" } },
      onBridge("router", "eth1"),
      onBridge("director"),
      onBridge("rs1"),
      onBridge("rs2"),
    ],
  };
}

export function topology(kind: LabKind): Topology {
  return kind === "nat" ? natLab() : sharedSegmentLab(kind);
}

export function isLabKind(s: string): s is LabKind {
  return (LAB_KINDS as readonly string[]).includes(s);
}

export function defaultPrefix(kind: LabKind): string {
  return `uvs-${kind}`;
}

/** Namespace of a role (`<prefix>-<role>`) and of the bridge (`<prefix>-br`). */
export function nsName(prefix: string, role: Role | "br"): string {
  return `${prefix}-${role}`;
}

/** Every namespace a lab of this kind may have (for teardown of half-built labs). */
export function labNamespaces(kind: LabKind, prefix: string): string[] {
  return [...topology(kind).nodes.map((n) => nsName(prefix, n.role)), nsName(prefix, "br")];
}

/** An address without its prefix length. */
export function hostOf(cidr: string): string {
  return cidr.split("/")[0];
}
