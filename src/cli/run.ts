/** `uvs run [--rules FILE] [--control SOCKET] [--metrics ADDR:PORT] [--drain SECONDS]`. */
import { DEFAULT_CONTROL_SOCKET } from "../control/protocol.ts";
import { Daemon } from "../daemon/daemon.ts";
import { createLogger } from "../daemon/log.ts";

export const DEFAULT_RULES = "/etc/uvs/uvs.conf";

export const RUN_USAGE = `usage: uvs run [--rules FILE] [--control SOCKET] [--metrics ADDR:PORT] [--drain SECONDS] [--dataplane proxy]
  --rules FILE         rules file, keepalived.conf syntax or ipvsadm save format (default ${DEFAULT_RULES})
  --control SOCKET     control socket (default ${DEFAULT_CONTROL_SOCKET}; also UVS_CONTROL)
  --metrics ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics
  --drain SECONDS      on SIGTERM, wait this long for connections to finish (default 30)
  --dataplane proxy    the userspace proxy (the only data plane so far)
  --no-watch           do not watch the rules file; reload only on SIGHUP or \`uvs reload\`
`;

export interface RunOptions {
  rules: string;
  control: string;
  metrics?: { host: string; port: number };
  drainMs: number;
  watch: boolean;
}

export function parseRunArgs(args: string[], control: string | undefined): RunOptions | string {
  const o: RunOptions = {
    rules: DEFAULT_RULES,
    control: control ?? DEFAULT_CONTROL_SOCKET,
    drainMs: 30_000,
    watch: true,
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
        if (v !== "proxy")
          return `uvs run: --dataplane ${v}: only the proxy data plane exists so far (the packet plane is not built yet)\n`;
        break;
      default:
        return `uvs run: unknown option ${JSON.stringify(k)}\n${RUN_USAGE}`;
    }
  }
  return o;
}

export async function runDaemon(args: string[], control: string | undefined): Promise<number> {
  const o = parseRunArgs(args, control);
  if (typeof o === "string") {
    (o === RUN_USAGE ? process.stdout : process.stderr).write(o);
    return o === RUN_USAGE ? 0 : 2;
  }
  const log = createLogger();
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
