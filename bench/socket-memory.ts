/**
 * Why the proxy plane's memory per connection has a floor: RSS per socket Bun holds, for sockets a
 * listener accepted and for sockets Bun.connect opened (each of which gets a socket context of its
 * own in Bun 1.4; there is no API to share one). Run by hand: `bun bench/socket-memory.ts`.
 */
import { readFileSync } from "node:fs";

const N = Number(process.env.N ?? 8000);
const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0);

/** A peer in another process, so only this process's sockets are measured. */
async function peer(code: string): Promise<ReturnType<typeof Bun.spawn>> {
  const p = Bun.spawn([process.execPath, "-e", `${code};console.log("up");await new Promise(()=>{})`], {
    stdout: "pipe",
  });
  await (p.stdout as ReadableStream<Uint8Array>).getReader().read();
  return p;
}

async function settle(): Promise<void> {
  Bun.gc(true);
  await Bun.sleep(300);
}

// Each kind is measured in a process of its own (RSS after one kind would skew the other).
const mode = process.env.MODE;
if (!mode) {
  const out: string[] = [];
  for (const m of ["accepted", "connected"]) {
    const p = Bun.spawnSync([process.execPath, import.meta.path], { env: { ...process.env, MODE: m } });
    out.push(p.stdout.toString().trim());
  }
  console.log(`bun ${Bun.version}, ${N} sockets: ${out.join(", ")}`);
  process.exit(0);
}

// Accepted: a child connects N times to our listener.
const held: unknown[] = [];
if (mode === "accepted") {
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { open: (s) => void held.push(s), data() {} },
  });
  await settle();
  const before0 = rssKiB();
  const dialer = await peer(
    `const s=[];for(let i=0;i<${N};i++)s.push(await Bun.connect({hostname:"127.0.0.1",port:${listener.port},socket:{data(){}}}))`,
  );
  while (held.length < N) await Bun.sleep(50);
  await settle();
  const accepted = ((rssKiB() - before0) * 1024) / N;
  dialer.kill();
  console.log(`accepted ${accepted.toFixed(0)} B/socket`);
  process.exit(0);
}

// Connected: we connect N times to a child's listener.
const port = 29000 + (process.pid % 1000);
const server = await peer(`Bun.listen({hostname:"127.0.0.1",port:${port},socket:{data(){}}})`);
const handlers = { data() {} };
const socks: unknown[] = [];
await settle();
const before = rssKiB();
for (let i = 0; i < N; i++) socks.push(await Bun.connect({ hostname: "127.0.0.1", port, socket: handlers }));
await settle();
const connected = ((rssKiB() - before) * 1024) / N;
server.kill();
console.log(`Bun.connect ${connected.toFixed(0)} B/socket`);
process.exit(0);
