/**
 * `uvs backend --port N --name NAME [--host ADDR]`: a tiny HTTP real server that answers every
 * request with its name (body and an X-Backend header), like the seeds' test real servers.
 */
export const BACKEND_USAGE = "usage: uvs backend --port N --name NAME [--host ADDR]\n";

export interface BackendOptions {
  host: string;
  port: number;
  name: string;
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
    else return `uvs backend: unknown option ${JSON.stringify(k)}\n${BACKEND_USAGE}`;
  }
  if (o.port === undefined || !o.name) return `uvs backend: --port and --name are required\n${BACKEND_USAGE}`;
  return o as BackendOptions;
}

export function startBackend(o: BackendOptions) {
  const body = `${o.name}\n`;
  return Bun.serve({
    hostname: o.host,
    port: o.port,
    fetch: () => new Response(body, { headers: { "X-Backend": o.name, "Content-Type": "text/plain" } }),
  });
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
    process.stderr.write(`uvs backend: cannot listen on ${o.host}:${o.port}: ${(e as Error).message}\n`);
    return 1;
  }
  await new Promise(() => {}); // serve until killed
  return 0;
}
