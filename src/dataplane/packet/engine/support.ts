/**
 * What the packet plane carries, for the daemon to refuse the rest with a clear message before it
 * reaches the table; and its counters as Prometheus text.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { ipv4FromU32 } from "../../../model/addr.ts";
import type { DestConfig } from "../../../model/dest.ts";
import type { ServiceId } from "../../../model/service.ts";
import { type InterfaceInfo, nextHop } from "./interfaces.ts";

/**
 * Null when the packet plane forwards this real server of this service; else why not. With the
 * plane's interfaces, a real server it could never send to is refused too: DR needs it on a link of
 * an --interface (as the kernel's DR), NAT and TUN on a link or behind an interface's gateway.
 */
export function packetRefusal(
  service: ServiceId,
  dest: Pick<DestConfig, "forward" | "af" | "addr">,
  where: string,
  ifs: readonly InterfaceInfo[] = [],
): string | null {
  if (service.kind === "fwmark")
    return `${where}: firewall-mark services need netfilter marks; the packet data plane matches protocol, address and port only`;
  if (service.af === "inet6" || dest.af === "inet6")
    return `${where}: the packet data plane forwards IPv4 only so far (IPv6 services are served by the proxy data plane)`;
  if (service.protocol === "sctp") return `${where}: the packet data plane carries TCP and UDP, not SCTP`;
  if (dest.forward === "local")
    return `${where}: local-node forwarding is not supported by the packet data plane`;
  if (ifs.length) return unreachable(dest.forward, dest.addr.words[0], where, ifs);
  return null;
}

function unreachable(
  forward: DestConfig["forward"],
  addr: number,
  where: string,
  ifs: readonly InterfaceInfo[],
): string | null {
  const hop = nextHop(ifs, addr);
  // The kernel's DR, and so ours, needs the real server on a link; NAT and TUN may go via a gateway.
  if (hop && (hop.ip === addr || forward !== "route")) return null;
  const links = ifs
    .map(
      (f) =>
        `${f.name} ${f.v4.map((n) => `${ipv4FromU32(n.addr).text}/${n.prefix}`).join(" ") || "(no IPv4 address)"}`,
    )
    .join(", ");
  if (forward === "route")
    return `${where}: direct routing needs the real server on a link of an --interface, and it is on none (${links}); add --interface for its link`;
  return `${where}: on no link of the --interfaces (${links}) and none has a default gateway: the packet data plane could never reach it; add --interface for its link (NAT: the real servers' side too, where their replies come in)`;
}

/** `uvs_packet_<counter>_total` lines for every counter. */
export function packetMetrics(counters: Record<string, number>): string {
  const lines = ["# HELP uvs_packet_frames packet data plane counters (docs/packet-plane.md)"];
  for (const [name, value] of Object.entries(counters)) {
    lines.push(`# TYPE uvs_packet_${name}_total counter`, `uvs_packet_${name}_total ${value}`);
  }
  return `${lines.join("\n")}\n`;
}

const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";

/**
 * Before the packet plane starts: Linux, root, and the director's kernel not forwarding (with
 * ip_forward=1 it would route frames to the VIP a second time and send NAT replies on un-rewritten).
 * `autoSysctl` sets ip_forward=0 in the current network namespace. Returns why it cannot start.
 */
export function packetPreflight(autoSysctl: boolean, warn: (msg: string) => void): string | null {
  if (process.platform !== "linux") return "uvs run: the packet data plane needs Linux (AF_PACKET)";
  if (process.getuid?.() !== 0)
    return "uvs run: the packet data plane needs root (raw AF_PACKET sockets need CAP_NET_RAW); run as root or use --dataplane proxy";
  let forward = "";
  try {
    forward = readFileSync(IP_FORWARD, "utf8").trim();
  } catch {
    return null;
  }
  if (forward === "0") return null;
  if (autoSysctl) {
    try {
      writeFileSync(IP_FORWARD, "0\n");
      warn("--auto-sysctl: set net.ipv4.ip_forward=0 in this network namespace");
      return null;
    } catch (e) {
      return `uvs run: --auto-sysctl: cannot write ${IP_FORWARD}: ${(e as Error).message}`;
    }
  }
  warn(
    "net.ipv4.ip_forward is 1: the director's kernel will also forward frames sent to the VIP and NAT replies unrewritten; set it to 0 (sysctl -w net.ipv4.ip_forward=0, or uvs run --auto-sysctl)",
  );
  return null;
}
