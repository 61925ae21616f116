/** `uvs run [--rules FILE] [--control SOCKET] [--metrics ADDR:PORT] [--drain SECONDS]`. */
import { DEFAULT_CONTROL_SOCKET } from "../control/protocol.ts";
import { Daemon } from "../daemon/daemon.ts";
import { createLogger } from "../daemon/log.ts";
import { packetPreflight } from "../dataplane/packet/engine/support.ts";

export const DEFAULT_RULES = "/etc/uvs/uvs.conf";

export const RUN_USAGE = `usage: uvs run [--rules FILE] [--control SOCKET] [--metrics ADDR:PORT] [--drain SECONDS]
               [--dataplane proxy | --dataplane packet --interface IF [--interface IF2] [--auto-sysctl]
                                    [--vip-mac virtual|real]] [--proxy-engine bun|epoll] [--proxy-threads N]
  --rules FILE         rules file, keepalived.conf syntax or ipvsadm save format (default ${DEFAULT_RULES})
  --control SOCKET     control socket (default ${DEFAULT_CONTROL_SOCKET}; also UVS_CONTROL)
  --metrics ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics
  --drain SECONDS      on SIGTERM, wait this long for connections to finish (default 30)
  --dataplane proxy    the userspace proxy (default; NAT only, any OS, no privileges)
  --dataplane packet   raw frames as the kernel's IPVS: DR, TUN and NAT over IPv4, the real server sees
                       the client's address (Linux, root; docs/packet-plane.md)
  --interface IF       an interface the packet plane serves (repeat: NAT needs the client side and
                       the real-server side); uvs answers ARP for the VIPs on it
  --auto-sysctl        set net.ipv4.ip_forward=0 in this network namespace (the packet plane needs
                       the director's kernel not to forward what uvs forwards)
  --vip-mac virtual    answer ARP for VIPs with a virtual MAC (default): 00:00:5e:00:01:VRID for VIPs
                       of a vrrp_instance, else a locally administered MAC per interface; the
                       director's kernel then drops VIP frames at once (also UVS_VIP_MAC)
  --vip-mac real       the interface's own MAC (switch port security or MAC limits)
  --proxy-engine epoll the proxy plane's TCP on raw sockets and epoll through bun:ffi (default on
                       Linux; also UVS_PROXY_ENGINE; docs/proxy-engine.md); falls back to Bun's
                       sockets, with a log line, where it cannot run
  --proxy-engine bun   the proxy plane's TCP on Bun's sockets (the default elsewhere)
  --proxy-threads N    relay threads of the epoll engine: kept-alive connections move their bytes
                       there, on other cores (default: the CPU count when 2 or more, else 0; also
                       UVS_PROXY_THREADS; 0 = everything on the main thread)
  --no-watch           do not watch the rules file; reload only on SIGHUP or \`uvs reload\`
`;

export interface RunOptions {
  rules: string;
  control: string;
  metrics?: { host: string; port: number };
  drainMs: number;
  watch: boolean;
  dataplane: "proxy" | "packet";
  interfaces: string[];
  autoSysctl: boolean;
  /** Packet plane: VIPs at virtual MACs or the interfaces' own; undefined = UVS_VIP_MAC or virtual. */
  vipMac?: "virtual" | "real";
  /** Proxy plane: its TCP engine; undefined = UVS_PROXY_ENGINE or bun. */
  proxyEngine?: "bun" | "epoll";
  /** Proxy plane, epoll engine: relay threads; undefined = UVS_PROXY_THREADS or the CPU count. */
  proxyThreads?: number;
}

export function parseRunArgs(args: string[], control: string | undefined): RunOptions | string {
  const o: RunOptions = {
    rules: DEFAULT_RULES,
    control: control ?? DEFAULT_CONTROL_SOCKET,
    drainMs: 30_000,
    watch: true,
    dataplane: "proxy",
    interfaces: [],
    autoSysctl: false,
  };
  for (let i = 0; i < args.length; i++) {
    const eq = args[i].indexOf("=");
    const k = eq > 0 ? args[i].slice(0, eq) : args[i];
    const v = eq > 0 ? args[i].slice(eq + 1) : args[i + 1];
    if (k === "-h" || k === "--help") return RUN_USAGE;
    if (k === "--no-watch") {
      o.watch = false;
      continue;
    }
    if (k === "--auto-sysctl") {
      o.autoSysctl = true;
      continue;
    }
    if (v === undefined) return `uvs run: ${k} needs a value\n${RUN_USAGE}`;
    if (eq < 0) i++;
    switch (k) {
      case "--rules":
        o.rules = v;
        break;
      case "--control":
        o.control = v;
        break;
      case "--metrics": {
        const m = /^(.*):(\d{1,5})$/.exec(v);
        if (!m || Number(m[2]) > 65535)
          return `uvs run: --metrics: expected ADDR:PORT, got ${JSON.stringify(v)}\n`;
        o.metrics = { host: m[1].replace(/^\[|\]$/g, "") || "127.0.0.1", port: Number(m[2]) };
        break;
      }
      case "--drain":
        if (!/^\d+(\.\d+)?$/.test(v)) return `uvs run: --drain: expected seconds, got ${JSON.stringify(v)}\n`;
        o.drainMs = Number(v) * 1000;
        break;
      case "--dataplane":
        if (v !== "proxy" && v !== "packet")
          return `uvs run: --dataplane ${JSON.stringify(v)}: expected proxy or packet\n`;
        o.dataplane = v;
        break;
      case "--vip-mac":
        if (v !== "virtual" && v !== "real")
          return `uvs run: --vip-mac ${JSON.stringify(v)}: expected virtual or real\n`;
        o.vipMac = v;
        break;
      case "--proxy-engine":
        if (v !== "bun" && v !== "epoll")
          return `uvs run: --proxy-engine ${JSON.stringify(v)}: expected bun or epoll\n`;
        o.proxyEngine = v;
        break;
      case "--proxy-threads":
        if (!/^\d+$/.test(v) || Number(v) > 64)
          return `uvs run: --proxy-threads ${JSON.stringify(v)}: expected a count from 0 to 64\n`;
        o.proxyThreads = Number(v);
        break;
      case "--interface":
        if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(v))
          return `uvs run: --interface: not an interface name: ${JSON.stringify(v)}\n`;
        o.interfaces.push(v);
        break;
      default:
        return `uvs run: unknown option ${JSON.stringify(k)}\n${RUN_USAGE}`;
    }
  }
  if (o.dataplane === "packet" && o.interfaces.length === 0)
    return `uvs run: --dataplane packet needs at least one --interface IF (the link the VIPs live on)\n`;
  if (o.dataplane === "proxy" && (o.interfaces.length || o.autoSysctl || o.vipMac))
    return `uvs run: --interface, --auto-sysctl and --vip-mac belong to --dataplane packet\n`;
  if (o.dataplane === "packet" && (o.proxyEngine || o.proxyThreads !== undefined))
    return `uvs run: --proxy-engine and --proxy-threads belong to --dataplane proxy\n`;
  return o;
}

export async function runDaemon(args: string[], control: string | undefined): Promise<number> {
  const o = parseRunArgs(args, control);
  if (typeof o === "string") {
    (o === RUN_USAGE ? process.stdout : process.stderr).write(o);
    return o === RUN_USAGE ? 0 : 2;
  }
  const log = createLogger();
  if (o.dataplane === "packet") {
    const why = packetPreflight(o.autoSysctl, (msg) => log.log("warning", msg));
    if (why) {
      log.log("error", why);
      return 1;
    }
  }
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ ...o, log });
  } catch (e) {
    log.log("error", (e as Error).message);
    return 1;
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await daemon.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  process.on("SIGHUP", () => void daemon.reload(false, "SIGHUP"));
  await new Promise(() => {});
  return 0;
}
