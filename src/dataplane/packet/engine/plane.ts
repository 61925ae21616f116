/**
 * The packet plane as the daemon sees it (main thread): starts the worker that owns the sockets and
 * the traffic-carrying Director, forwards config ops to it, asks it for snapshots, reads its
 * counters from shared memory, and controls VIP ownership at layer 2 (ARP answers, gratuitous
 * ARP) for VRRP.
 */
import type { DirectorOp, OpResult } from "../../../director/api.ts";
import { parseIpv4Strict } from "../../../model/addr.ts";
import type { Snapshot } from "../../../model/snapshot.ts";
import { workerEntryUrl } from "../../../sys/worker-url.ts";
import { COUNTER_NAMES, newCounterBuffer, readCounters } from "./counters.ts";
import { type InterfaceInfo, readInterface } from "./interfaces.ts";
import type { NeighbourEntry, WorkerInit, WorkerMessage, WorkerRequest } from "./messages.ts";
import { STOP } from "./messages.ts";
import type { VipMacMode } from "./vip-macs.ts";

export interface PacketPlaneOptions {
  interfaces: string[];
  /** Frames per batch (default 64). */
  batch?: number;
  /** How often the cached snapshot (metrics) is refreshed, ms (default 1000; 0 = never). */
  refreshMs?: number;
  /**
   * VIPs at virtual MACs ("virtual", the default) or at the interfaces' own ("real");
   * default: UVS_VIP_MAC from the environment (`uvs run --vip-mac` sets it), else "virtual".
   */
  vipMac?: VipMacMode;
  /** Log lines of the worker (its sync daemons). */
  log?: (level: "info" | "warning" | "error", msg: string, fields?: Record<string, unknown>) => void;
}

/** The worker module's path under src/ (scripts/build.ts embeds it as an extra entry point). */
export const WORKER_FROM_SRC = "dataplane/packet/engine/worker.ts";

/** The packet worker's module URL, under bun or in a compiled binary. */
export function workerUrl(here = import.meta.url): string {
  return workerEntryUrl(WORKER_FROM_SRC, here);
}

/** --vip-mac / UVS_VIP_MAC: "virtual" or "real"; a clear Error otherwise. */
export function vipMacMode(text: string | undefined): VipMacMode {
  if (text === undefined || text === "" || text === "virtual") return "virtual";
  if (text === "real") return "real";
  throw new Error(`vip MAC mode ${JSON.stringify(text)}: expected virtual or real (--vip-mac, UVS_VIP_MAC)`);
}

type Pending = { resolve(v: unknown): void; reject(e: Error): void };
type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

function vipWords(vips: readonly string[]): number[] {
  return vips.map((t) => {
    const a = parseIpv4Strict(t);
    if (a === null) throw new Error(`not an IPv4 address: ${JSON.stringify(t)}`);
    return a;
  });
}

export class PacketPlane {
  readonly kind = "packet";
  private readonly counterArray: Float64Array;
  private readonly control: Int32Array;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private cached: Snapshot | null = null;
  private refresh?: ReturnType<typeof setInterval>;
  private stopped: Promise<void>;
  private onStopped!: () => void;
  private closed = false;
  private log?: PacketPlaneOptions["log"];

  private constructor(
    private readonly worker: Worker,
    readonly interfaces: InterfaceInfo[],
    counters: SharedArrayBuffer,
    control: SharedArrayBuffer,
  ) {
    this.counterArray = new Float64Array(counters);
    this.control = new Int32Array(control);
    this.stopped = new Promise((r) => {
      this.onStopped = r;
    });
  }

  /** Read the interfaces, start the worker, open the sockets; rejects with the reason it cannot. */
  static async start(o: PacketPlaneOptions): Promise<PacketPlane> {
    if (o.interfaces.length === 0) throw new Error("the packet data plane needs at least one --interface");
    if (o.interfaces.length > 8) throw new Error("the packet data plane takes at most 8 interfaces");
    const vipMac = o.vipMac ?? vipMacMode(process.env.UVS_VIP_MAC);
    const interfaces = o.interfaces.map(readInterface);
    const counters = newCounterBuffer();
    const control = new SharedArrayBuffer(16);
    const worker = new Worker(workerUrl());
    const plane = new PacketPlane(worker, interfaces, counters, control);
    plane.log = o.log;
    await new Promise<void>((resolve, reject) => {
      worker.onmessage = (ev: MessageEvent<WorkerMessage>) => {
        const m = ev.data;
        if (m.type === "ready") resolve();
        else if (m.type === "error") reject(new Error(`packet data plane: ${m.message}`));
        else plane.onMessage(m);
      };
      worker.onerror = (ev) => reject(new Error(`packet data plane worker failed: ${ev.message}`));
      const init: WorkerInit = {
        type: "init",
        interfaces,
        counters,
        control,
        batch: o.batch ?? 64,
        vipMac,
      };
      worker.postMessage(init);
    }).catch((e) => {
      worker.terminate();
      throw e;
    });
    worker.onmessage = (ev: MessageEvent<WorkerMessage>) => plane.onMessage(ev.data);
    const refreshMs = o.refreshMs ?? 1000;
    if (refreshMs > 0) plane.refresh = setInterval(() => void plane.refreshCache(), refreshMs);
    return plane;
  }

  private onMessage(m: WorkerMessage): void {
    if (m.type === "reply") {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      const err = (m.result as { error?: string } | null)?.error;
      if (typeof err === "string") p?.reject(new Error(err));
      else p?.resolve(m.result);
    } else if (m.type === "stopped") {
      this.onStopped();
    } else if (m.type === "log") {
      this.log?.(m.level, m.msg, m.fields);
    }
  }

  private ask<T>(req: Request): Promise<T> {
    if (this.closed) return Promise.reject(new Error("the packet data plane is closed"));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...req, id } as WorkerRequest);
    });
  }

  /** Apply Director ops in the worker (the same sequence the daemon applies to its own table). */
  apply(ops: DirectorOp[]): Promise<OpResult[]> {
    if (ops.length === 0) return Promise.resolve([]);
    return this.ask<OpResult[]>({ type: "apply", ops });
  }

  /** The worker's director as `uvs-state/1` (the truthful listing: traffic is counted there). */
  async snapshot(opts: { connections?: boolean } = {}): Promise<Snapshot> {
    const s = await this.ask<Snapshot>({ type: "snapshot", connections: opts.connections !== false });
    if (opts.connections === false) this.cached = s;
    return s;
  }

  private async refreshCache(): Promise<void> {
    try {
      await this.snapshot({ connections: false });
    } catch {
      // closed while refreshing: keep the last one
    }
  }

  /** The last snapshot without connections (for synchronous readers such as metrics); null before the first. */
  cachedSnapshot(): Snapshot | null {
    return this.cached;
  }

  /** Counter name → value, read from shared memory (no message to the worker). */
  counters(): Record<string, number> {
    return readCounters(this.counterArray);
  }

  /** Answer ARP only for these VIPs (a VRRP backup: []), or for every service VIP ("all", the default). */
  setArpFor(vips: string[] | "all"): Promise<boolean> {
    return this.ask<boolean>({ type: "arp-for", vips: vips === "all" ? "all" : vipWords(vips) });
  }

  /** Send gratuitous ARP for these VIPs (default: every VIP answered for); resolves to frames sent. */
  announce(vips?: string[]): Promise<number> {
    return this.ask<number>({ type: "announce", vips: vips ? vipWords(vips) : null });
  }

  /**
   * VIP → VRID of the vrrp_instance listing it: such a VIP is answered at the virtual router MAC
   * 00:00:5e:00:01:VRID (the same on every director of the instance).
   */
  setVipVrids(vrids: Record<string, number>): Promise<boolean> {
    const words = vipWords(Object.keys(vrids));
    const pairs = Object.values(vrids).map((vrid, i): [number, number] => [words[i], vrid]);
    return this.ask<boolean>({ type: "vip-vrids", vrids: pairs });
  }

  neighbours(): Promise<NeighbourEntry[]> {
    return this.ask<NeighbourEntry[]>({ type: "neighbours" });
  }

  /** What ProxyPlane.sync does for listeners: nothing here (the VIPs come with the ops). */
  async sync(): Promise<void> {}

  /** ProxyPlane-shaped stats for the daemon's metrics. */
  stats(): { connectFailures: Record<string, number> } {
    return { connectFailures: {} };
  }

  /** Connections in the kernel sense stay with the clients; nothing to wait for. */
  async drain(_ms: number): Promise<void> {}

  /** Stop the worker loop, close its sockets, end the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.refresh) clearInterval(this.refresh);
    Atomics.store(this.control, STOP, 1);
    await Promise.race([this.stopped, Bun.sleep(1000)]);
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error("the packet data plane closed"));
    this.pending.clear();
  }
}

export { COUNTER_NAMES };
