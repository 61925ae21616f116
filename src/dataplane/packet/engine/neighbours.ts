/**
 * The engine's ARP table (RFC 826): the MACs of real servers and gateways. uvs resolves them itself,
 * since the frames it sends bypass the host's neighbour table: it sends requests from the
 * interface's own address, learns from replies (and from any ARP the address sends), refreshes
 * entries before they go stale and forgets them when they stop answering. Frames toward an address
 * without a usable entry are dropped by the caller (TCP retransmits; the first request went out when
 * the configuration named the address).
 */
import { wr16, wr32 } from "../checksum.ts";
import { BROADCAST_MAC, ETH_ALEN, ETH_HLEN, ETH_P_ARP, ETH_P_IP, writeEthernet } from "../ethernet.ts";

export interface NeighbourTimers {
  /** An answer is trusted this long (ms). */
  reachableMs: number;
  /** Re-ask this long after the last answer, while still using it (ms). */
  refreshMs: number;
  /** Between two requests for the same address (ms). */
  retryMs: number;
}

const DEFAULT_TIMERS: NeighbourTimers = { reachableMs: 60_000, refreshMs: 30_000, retryMs: 1000 };

interface Entry {
  ifIdx: number;
  mac: Uint8Array;
  resolved: boolean;
  /** When the last answer came (ms). */
  seen: number;
  lastAsk: number;
  created: number;
  /** Named by the configuration (kept and refreshed); others were asked for by a frame. */
  wanted: boolean;
}

export class Neighbours {
  private readonly table = new Map<number, Entry>();
  private readonly t: NeighbourTimers;

  constructor(timers: Partial<NeighbourTimers> = {}) {
    this.t = { ...DEFAULT_TIMERS, ...timers };
  }

  /** The MAC of `ip` if an answer is recent enough; otherwise null (and the address gets asked for). */
  lookup(ip: number, ifIdx: number, now: number): Uint8Array | null {
    const e = this.table.get(ip);
    if (e?.resolved && now - e.seen < this.t.reachableMs) return e.mac;
    if (!e) this.table.set(ip, newEntry(ifIdx, false, now));
    return null;
  }

  /** Track exactly these addresses (real servers, gateways) and keep them resolved. */
  setWanted(list: readonly { ip: number; ifIdx: number }[]): void {
    const keep = new Set(list.map((x) => x.ip));
    for (const ip of [...this.table.keys()]) if (!keep.has(ip)) this.table.delete(ip);
    for (const { ip, ifIdx } of list) {
      const e = this.table.get(ip);
      if (e) {
        e.wanted = true;
        e.ifIdx = ifIdx;
      } else this.table.set(ip, newEntry(ifIdx, true, 0));
    }
  }

  /** An ARP packet from `ip` with sender MAC `mac` (at `off` of `buf`): learn it if we track `ip`. */
  learn(ip: number, buf: Uint8Array, off: number, ifIdx: number, now: number): void {
    const e = this.table.get(ip);
    if (!e) return;
    for (let i = 0; i < ETH_ALEN; i++) e.mac[i] = buf[off + i];
    e.resolved = true;
    e.seen = now;
    e.ifIdx = ifIdx;
  }

  /** Call `ask(ip, ifIdx)` for every address whose request is due (unresolved, or about to go stale). */
  due(now: number, ask: (ip: number, ifIdx: number) => void): void {
    for (const [ip, e] of this.table) {
      if (now - e.lastAsk < this.t.retryMs) continue;
      const age = now - e.seen;
      if (e.resolved && age < this.t.refreshMs) continue;
      if (e.resolved && age >= this.t.reachableMs) e.resolved = false;
      // An address a frame asked for that never answered is forgotten after one reachable time.
      if (!e.wanted && !e.resolved && now - e.created >= this.t.reachableMs) {
        this.table.delete(ip);
        continue;
      }
      e.lastAsk = now;
      ask(ip, e.ifIdx);
    }
  }

  /** For listings and tests: address → MAC text, or null while unresolved. */
  entries(): { ip: number; ifIdx: number; mac: Uint8Array | null }[] {
    return [...this.table].map(([ip, e]) => ({ ip, ifIdx: e.ifIdx, mac: e.resolved ? e.mac : null }));
  }
}

function newEntry(ifIdx: number, wanted: boolean, now: number): Entry {
  return {
    ifIdx,
    mac: new Uint8Array(ETH_ALEN),
    resolved: false,
    seen: -1e15,
    lastAsk: -1e15,
    created: now,
    wanted,
  };
}

/** RFC 826 request "who has `tpa`? tell `spa`" from `srcMac`, broadcast. Returns the frame length (42). */
export function buildArpRequest(out: Uint8Array, srcMac: Uint8Array, spa: number, tpa: number): number {
  const off = writeEthernet(out, BROADCAST_MAC, srcMac, ETH_P_ARP);
  wr16(out, off, 1); // hardware type Ethernet
  wr16(out, off + 2, ETH_P_IP);
  out[off + 4] = ETH_ALEN;
  out[off + 5] = 4;
  wr16(out, off + 6, 1); // request
  out.set(srcMac.subarray(0, ETH_ALEN), off + 8);
  wr32(out, off + 14, spa);
  out.fill(0, off + 18, off + 24);
  wr32(out, off + 24, tpa);
  return ETH_HLEN + 28;
}
