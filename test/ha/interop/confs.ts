/** Rules and keepalived.conf texts of the HA labs (192.0.2.0/24, VRID 51, VIP 192.0.2.100). */
import { VIP } from "./lab.ts";

export interface InstanceOpts {
  priority: number;
  state?: "MASTER" | "BACKUP";
  version?: 2 | 3;
  unicast?: { src: string; peers: string[] };
  auth?: string;
  extra?: string;
}

/** One vrrp_instance block, the same text for keepalived and uvs. */
export function instance(o: InstanceOpts): string {
  const lines = [
    "vrrp_instance VI_1 {",
    `  state ${o.state ?? "BACKUP"}`,
    "  interface eth0",
    "  virtual_router_id 51",
    `  priority ${o.priority}`,
    "  advert_int 1",
  ];
  if (o.version === 3) lines.push("  version 3");
  if (o.auth) lines.push("  authentication {", "    auth_type PASS", `    auth_pass ${o.auth}`, "  }");
  if (o.unicast)
    lines.push(
      `  unicast_src_ip ${o.unicast.src}`,
      "  unicast_peer {",
      ...o.unicast.peers.map((p) => `    ${p}`),
      "  }",
    );
  if (o.extra) lines.push(o.extra);
  lines.push("  virtual_ipaddress {", `    ${VIP}/32`, "  }", "}");
  return `${lines.join("\n")}\n`;
}

/** uvs: the VRRP instance and a proxy-plane service VIP:80 → a backend on the node's loopback. */
export function uvsRules(o: InstanceOpts, backendPort: number): string {
  return `${instance(o)}
virtual_server ${VIP} 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 127.0.0.1 ${backendPort} {
    weight 1
  }
}
`;
}

export function keepalivedConf(o: InstanceOpts): string {
  return `global_defs {
  vrrp_garp_master_delay 1
}
${instance(o)}`;
}
