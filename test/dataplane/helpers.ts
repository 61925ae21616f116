/**
 * Real sockets on 127.0.0.1 for the proxy plane tests: small backends (echo, "answers with its
 * name"), a recording client, and a lab = director + one service + ProxyPlane, all disposable so
 * everything closes even when a test fails.
 */
import type { Socket } from "bun";
import { TCP_STATE_NAMES } from "../../src/conntrack/states.ts";
import { type ProxyLogEvent, ProxyPlane } from "../../src/dataplane/proxy/plane.ts";
import type { ProxyProtocolVersion } from "../../src/dataplane/proxy/proxy-protocol.ts";
import { Director } from "../../src/director/director.ts";
import type { Dest } from "../../src/model/dest.ts";
import { type ServiceId, serviceKey } from "../../src/model/service.ts";
import { destConfig, ip, svcConfig } from "../helpers/director.ts";

export const LO = "127.0.0.1";

/** Poll until `cond` holds; fail after `ms` (every wait in these tests is bounded). */
export async function waitFor(cond: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/** An ephemeral port that was free a moment ago (the service's port must be known before listening). */
export function freePort(): number {
  const l = Bun.listen({ hostname: LO, port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

export async function freeUdpPort(): Promise<number> {
  const s = await Bun.udpSocket({ hostname: LO, port: 0 });
  const port = s.port;
  s.close();
  return port;
}

export interface Backend extends Disposable {
  readonly port: number;
  readonly name: string;
  /** Every accepted connection's socket, in order. */
  readonly conns: Socket<BackendConn>[];
  stop(): void;
}

export interface BackendConn {
  rx: Buffer[];
  fin: boolean;
  closed: boolean;
  closeError: Error | undefined;
}

function rxText(c: BackendConn): string {
  return Buffer.concat(c.rx).toString();
}

export { rxText as backendText };

type Handlers = {
  open?(s: Socket<BackendConn>): void;
  data?(s: Socket<BackendConn>, d: Buffer): void;
  end?(s: Socket<BackendConn>): void;
  drain?(s: Socket<BackendConn>): void;
};

/** A backend that records what it gets; `h` adds behaviour. */
export function backend(name: string, h: Handlers = {}): Backend {
  const conns: Socket<BackendConn>[] = [];
  const l = Bun.listen<BackendConn>({
    hostname: LO,
    port: 0,
    allowHalfOpen: true,
    socket: {
      open(s) {
        s.data = { rx: [], fin: false, closed: false, closeError: undefined };
        conns.push(s);
        h.open?.(s);
      },
      data(s, d) {
        s.data.rx.push(d);
        h.data?.(s, d);
      },
      end(s) {
        s.data.fin = true;
        h.end?.(s);
      },
      drain(s) {
        h.drain?.(s);
      },
      close(s, err) {
        s.data.closed = true;
        s.data.closeError = err;
      },
    },
  });
  const stop = () => l.stop(true);
  return { port: l.port, name, conns, stop, [Symbol.dispose]: stop };
}

/** Echoes everything and answers a FIN with a FIN. */
export function echoBackend(name = "echo"): Backend {
  return backend(name, { data: (s, d) => s.write(d), end: (s) => s.shutdown() });
}

/** Answers any request with its name, then closes ("HTTP/1.0"-ish). */
export function nameBackend(name: string): Backend {
  return backend(name, {
    data: (s) => {
      s.write(`HTTP/1.0 200 OK\r\ncontent-length: ${name.length}\r\n\r\n${name}`);
      s.end();
    },
  });
}

/** A client connection that records everything that happens to it. */
export class Client implements Disposable {
  readonly rx: Buffer[] = [];
  received = 0;
  fin = false;
  closed = false;
  closeError: Error | undefined;
  sock!: Socket<undefined>;

  static async connect(
    port: number,
    onData?: (c: Client, d: Buffer) => void,
    onDrain?: (c: Client) => void,
  ): Promise<Client> {
    const c = new Client();
    c.sock = await Bun.connect({
      hostname: LO,
      port,
      allowHalfOpen: true,
      socket: {
        data(_s, d) {
          c.received += d.length;
          if (onData) onData(c, d);
          else c.rx.push(d);
        },
        end() {
          c.fin = true;
        },
        drain() {
          onDrain?.(c);
        },
        close(_s, err) {
          c.closed = true;
          c.closeError = err;
        },
      },
    });
    return c;
  }

  /**
   * Connect to a proxy that resets the client at once (no destination, a refused connect): the
   * reset may come before Bun reports the connection up, which Bun reports as a failed connect.
   * Null then; else the client, which the caller waits to see closed.
   */
  static async connectToReset(port: number): Promise<Client | null> {
    try {
      return await Client.connect(port);
    } catch (e) {
      if (/Failed to connect|ECONNRESET/.test(String(e))) return null;
      throw e;
    }
  }

  text(): string {
    return Buffer.concat(this.rx).toString();
  }

  async closedWithin(ms = 3000): Promise<void> {
    await waitFor(() => this.closed, ms, "the client to close");
  }

  [Symbol.dispose](): void {
    if (!this.closed) this.sock.terminate();
  }
}

/** One request to a name backend through `port`: the body (the backend's name). */
export async function askName(port: number): Promise<string> {
  using c = await Client.connect(port);
  c.sock.write("GET / HTTP/1.0\r\n\r\n");
  await waitFor(() => c.fin, 3000, "the answer");
  c.sock.end();
  const t = c.text();
  return t.slice(t.indexOf("\r\n\r\n") + 4);
}

export interface LabOptions {
  scheduler?: string;
  protocol?: "tcp" | "udp";
  backends: { port: number; weight?: number; pp?: ProxyProtocolVersion }[];
  connectTimeoutMs?: number;
  /** Service flags (SVC_F_*), e.g. one-packet scheduling. */
  flags?: number;
  /** The plane's TCP engine and relay threads (default: the environment's). */
  tcpEngine?: "bun" | "epoll";
  relayThreads?: number;
}

/** A director with one service on 127.0.0.1:<free port> and a proxy plane listening on it. */
export class Lab implements AsyncDisposable {
  readonly events: ProxyLogEvent[] = [];
  readonly director = new Director({});
  readonly plane: ProxyPlane;
  readonly id: ServiceId;
  readonly protocol: "tcp" | "udp";

  private constructor(
    readonly port: number,
    readonly opts: LabOptions,
  ) {
    const protocol = opts.protocol ?? "tcp";
    this.protocol = protocol;
    this.id = { kind: "addr", af: "inet", protocol, addr: ip(LO), port };
    this.plane = new ProxyPlane(this.director, {
      log: (e) => this.events.push(e),
      connectTimeoutMs: opts.connectTimeoutMs,
      tcpEngine: opts.tcpEngine,
      relayThreads: opts.relayThreads,
    });
  }

  static async start(opts: LabOptions): Promise<Lab> {
    const port = opts.protocol === "udp" ? await freeUdpPort() : freePort();
    const lab = new Lab(port, opts);
    const d = lab.director;
    const r = d.apply({
      op: "add-service",
      service: lab.id,
      config: svcConfig({ scheduler: opts.scheduler ?? "rr", flags: opts.flags ?? 0 }),
    });
    if (!r.ok) throw new Error(r.errno);
    for (const b of opts.backends) lab.addServer(b.port, b.weight ?? 1);
    await lab.plane.sync([lab.spec()]);
    return lab;
  }

  get key(): string {
    return serviceKey(this.id);
  }

  spec() {
    const pp = new Map(this.opts.backends.filter((b) => b.pp).map((b) => [`${LO}:${b.port}`, b.pp!]));
    return {
      key: this.key,
      listen: [{ addr: ip(LO), port: this.port, protocol: this.protocol }],
      proxyProtocol: pp,
    };
  }

  addServer(port: number, weight = 1): void {
    const a = this.director.apply({
      op: "add-server",
      service: this.id,
      dest: destConfig(LO, port, { weight }),
    });
    if (!a.ok) throw new Error(a.errno);
  }

  setWeight(port: number, weight: number): void {
    const r = this.director.apply({
      op: "edit-server",
      service: this.id,
      dest: destConfig(LO, port, { weight }),
    });
    if (!r.ok) throw new Error(r.errno);
  }

  deleteServer(port: number): void {
    const r = this.director.apply({ op: "delete-server", service: this.id, addr: ip(LO), port });
    if (!r.ok) throw new Error(r.errno);
  }

  dest(port: number): Dest {
    return this.director.findService(this.id)!.findDest(ip(LO), port)!;
  }

  /** The connection entry of a client (by its local port): TCP state name, or null if gone. */
  state(cport: number): string | null {
    const t = this.director.conns;
    const proto = this.protocol === "udp" ? 17 : 6;
    const slot = t.lookup(proto, ip(LO), cport, ip(LO), this.port);
    return slot < 0 ? null : proto === 6 ? TCP_STATE_NAMES[t.state(slot)] : "UDP";
  }

  /** The state of every TCP entry (when the client's port is not known). */
  states(): string[] {
    const t = this.director.conns;
    return [...t.slots()].map((s) => TCP_STATE_NAMES[t.state(s)]);
  }

  /** Move the director's clock forward by `ms`. */
  advance(ms: number): void {
    this.director.advance(this.director.now + ms);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.plane.close();
  }
}
