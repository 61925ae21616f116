/**
 * Text about a lab for people: its addresses, what the director's kernel needs for the method, a
 * rules file for uvs and the command that runs uvs in the director's namespace.
 */
import { selfCommand } from "./self.ts";
import { type LabKind, nsName, type Topology } from "./topology.ts";

const METHOD: Record<LabKind, string> = { nat: "NAT", dr: "DR", tun: "TUN" };

/** What the director's kernel must (not) do while uvs forwards, per method. */
export const DIRECTOR_KERNEL: Record<LabKind, string> = {
  nat:
    "ip_forward=0: uvs forwards both ways; the VIP is configured nowhere (uvs answers ARP for it on eth0); " +
    "the real servers' replies reach the director (their gateway 192.0.2.1) and its kernel drops them " +
    "silently since it does not forward, so only uvs rewrites them back to the VIP",
  dr:
    "ip_forward=0: AF_PACKET is a tap, a forwarding kernel would send a second copy; the VIP is not " +
    "configured on the director (uvs answers ARP for it); the real servers hold it on lo with " +
    "arp_ignore=1/arp_announce=2 and reply to the client directly through the router",
  tun:
    "as DR: ip_forward=0 and no VIP on the director; uvs wraps packets in IPIP to the real servers, " +
    "which need tunl0 (module ipip) holding the VIP and rp_filter=0; replies go straight to the router",
};

/** A rules file (keepalived syntax) with the lab's VIP on port 80 over both real servers. */
export function labRules(topo: Topology, sched = "rr"): string {
  const reals = topo.nodes
    .filter((n) => n.realServer)
    .map((n) => `    real_server ${n.realServer!.addr} ${topo.httpPort} {\n        weight 1\n    }\n`)
    .join("");
  return (
    `# uvs ${topo.kind} lab: ${METHOD[topo.kind]} to the real servers' HTTP servers\n` +
    `virtual_server ${topo.vip} ${topo.httpPort} {\n    lvs_sched ${sched}\n    lvs_method ${METHOD[topo.kind]}\n` +
    `    protocol TCP\n\n${reals}}\n`
  );
}

export function describeLab(topo: Topology, prefix: string, rulesPath: string): string {
  const lines = [`${topo.kind} lab "${prefix}", VIP ${topo.vip}:${topo.httpPort} (${METHOD[topo.kind]})`];
  for (const n of topo.nodes) {
    const addrs = Object.entries(n.addrs)
      .map(([i, a]) => `${i} ${a}`)
      .join(", ");
    const gw = n.gateway ? `, gw ${n.gateway}` : "";
    const rs = n.realServer ? ` (HTTP :${topo.httpPort})` : "";
    lines.push(`  ${n.role.padEnd(9)} ${nsName(prefix, n.role).padEnd(20)} ${addrs}${gw}${rs}`);
  }
  lines.push(`  bridge    ${nsName(prefix, "br")}`);
  lines.push(`director kernel: ${DIRECTOR_KERNEL[topo.kind]}`);
  const uvs = selfCommand().join(" ");
  lines.push(
    "run uvs in the director:",
    `  ip netns exec ${nsName(prefix, "director")} ${uvs} run --dataplane packet ${topo.directorIfs.map((i) => `--interface ${i}`).join(" ")} --rules ${rulesPath} --control /run/uvs-lab/${prefix}.sock`,
    "try it from the client:",
    `  ip netns exec ${nsName(prefix, "client")} curl -s http://${topo.vip}/`,
  );
  return `${lines.join("\n")}\n`;
}
