/**
 * `uvs backend --port N --name NAME [--host ADDR] [--log FILE]`: a tiny HTTP real server that
 * answers every request with its name (body, and X-Backend / X-Real-Server headers), like the seeds'
 * test real servers. With --log it appends one line per request naming the client's address, so a
 * lab can prove which address the real server saw (DR/TUN/NAT keep the client's).
 */
import { closeSync, openSync, writeSync } from "node:fs";

export const BACKEND_USAGE = "usage: uvs backend --port N --name NAME [--host ADDR] [--log FILE]\n";

export interface BackendOptions {
  host: string;
  port: number;
  name: string;
  /** Append `<iso time> <client addr> <client port> <method> <path>` per request. */
  log?: string;
}

export function parseBackendArgs(args: string[]): BackendOptions | string {
  const o: Partial<BackendOptions> = { host: "127.0.0.1" };
  for (let i = 0; i < args.length; i++) {
    const [k, inline] = args[i].split("=", 2) as [string, string | undefined];
    const v = inline ?? args[++i];
    if (v === undefined) return `uvs backend: ${k} needs a value\n${BACKEND_USAGE}`;
    if (k === "--port") {
      if (!/^\d+$/.test(v) || Number(v) > 65535)
        return `uvs backend: --port: ${JSON.stringify(v)} is not a port\n`;
      o.port = Number(v);
    } else if (k === "--name") o.name = v;
    else if (k === "--host") o.host = v;
    else if (k === "--log") o.log = v;
    else return `uvs backend: unknown option ${JSON.stringify(k)}\n${BACKEND_USAGE}`;
  }
  if (o.port === undefined || !o.name) return `uvs backend: --port and --name are required\n${BACKEND_USAGE}`;
  return o as BackendOptions;
}

/** One log line: when, who (as the socket saw it), what. */
export function backendLogLine(client: { address: string; port: number } | null, req: Request): string {
  const path = new URL(req.url).pathname;
  return `${new Date().toISOString()} ${client?.address ?? "-"} ${client?.port ?? "-"} ${req.method} ${path}\n`;
}

function openLog(path: string): number {
  try {
    return openSync(path, "a");
  } catch (e) {
    throw new Error(`cannot open the log file ${path}: ${(e as Error).message}`);
  }
}

export function startBackend(o: BackendOptions) {
  const body = `${o.name}\n`;
  const headers = { "X-Backend": o.name, "X-Real-Server": o.name, "Content-Type": "text/plain" };
  // One fd for the server's life; a line per write is atomic for O_APPEND, so readers never see halves.
  const logFd = o.log === undefined ? undefined : openLog(o.log);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: o.host,
      port: o.port,
      fetch: (req, srv) => {
        if (logFd !== undefined) writeSync(logFd, backendLogLine(srv.requestIP(req), req));
        return new Response(body, { headers });
      },
    });
  } catch (e) {
    if (logFd !== undefined) closeSync(logFd);
    throw new Error(`cannot listen on ${o.host}:${o.port}: ${(e as Error).message}`);
  }
  if (logFd !== undefined) {
    const stop = server.stop.bind(server);
    server.stop = (closeActive?: boolean) => {
      const r = stop(closeActive);
      closeSync(logFd);
      return r;
    };
  }
  return server;
}

export async function runBackend(args: string[]): Promise<number> {
  const o = parseBackendArgs(args);
  if (typeof o === "string") {
    process.stderr.write(o);
    return 2;
  }
  try {
    const server = startBackend(o);
    process.stdout.write(`uvs backend ${o.name} listening on ${o.host}:${server.port}\n`);
  } catch (e) {
    process.stderr.write(`uvs backend: ${(e as Error).message}\n`);
    return 1;
  }
  await new Promise(() => {}); // serve until killed
  return 0;
}
