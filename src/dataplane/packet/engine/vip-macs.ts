/**
 * Which MAC a VIP lives at, per interface, and which destination MACs of frames the kernel calls
 * PACKET_OTHERHOST are ours (docs/packet-plane.md, "Virtual MACs for the VIPs").
 *
 * With virtual MACs (the default), a VIP is answered and announced at a MAC that is not the
 * interface's own, so the director's kernel classifies frames to it as another host's and drops
 * them at the first check of IP input, while the AF_PACKET tap still hands them to the worker:
 *   - a VIP that a vrrp_instance lists: RFC 5798 §7.3's virtual router MAC 00:00:5e:00:01:<VRID>
 *     (the backup takes over the same MAC; only the switches' tables move);
 *   - any other VIP: one locally administered MAC per interface, the interface's MAC with its first
 *     byte replaced by 0x02 (0x06 when that byte already is 0x02): stable across restarts, unicast,
 *     and not a vendor address.
 * With "real" MACs (--vip-mac real) VIPs are at the interface's MAC, as before.
 */
import { ETH_ALEN } from "../ethernet.ts";
import type { InterfaceInfo } from "./interfaces.ts";

export type VipMacMode = "virtual" | "real";

/** RFC 5798 §7.3: the IPv4 virtual router MAC of `vrid` (1..255). */
export function vrrpMac(vrid: number): Uint8Array {
  return Uint8Array.of(0x00, 0x00, 0x5e, 0x00, 0x01, vrid & 0xff);
}

/** The locally administered MAC for VIPs on an interface with MAC `ifMac`. */
export function derivedMac(ifMac: Uint8Array): Uint8Array {
  const m = Uint8Array.from(ifMac.subarray(0, ETH_ALEN));
  m[0] = ifMac[0] === 0x02 ? 0x06 : 0x02;
  return m;
}

/** A MAC as two numbers (first 2 bytes, last 4), for a compare without allocation. */
function macHi(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
function macLo(b: Uint8Array, o: number): number {
  return ((b[o + 2] << 24) | (b[o + 3] << 16) | (b[o + 4] << 8) | b[o + 5]) >>> 0;
}

export class VipMacs {
  /** Per interface: the MAC of VIPs that no VRRP instance lists. */
  private readonly perIf: Uint8Array[];
  /** VIP (host-order u32) → its virtual router MAC. */
  private byVip = new Map<number, Uint8Array>();
  /** Per interface: the MACs frames for other hosts are accepted at (hi/lo pairs), and as bytes. */
  private acceptHi: number[][];
  private acceptLo: number[][];
  private acceptMacs: Uint8Array[][];

  constructor(
    private readonly ifs: readonly InterfaceInfo[],
    readonly mode: VipMacMode = "virtual",
  ) {
    this.perIf = ifs.map((f) => (mode === "real" ? f.mac : derivedMac(f.mac)));
    this.acceptHi = ifs.map(() => []);
    this.acceptLo = ifs.map(() => []);
    this.acceptMacs = ifs.map(() => []);
  }

  /**
   * VIP → VRID of the vrrp_instance that lists it; returns the VIPs whose MAC changed. Ignored
   * with real MACs (a VRRP MAC is then not used at all).
   */
  setVrids(vrids: ReadonlyMap<number, number>): number[] {
    if (this.mode === "real") return [];
    const next = new Map<number, Uint8Array>();
    for (const [vip, vrid] of vrids) if (vrid >= 1 && vrid <= 255) next.set(vip, vrrpMac(vrid));
    const changed: number[] = [];
    // Virtual router MACs differ only in their last byte (the VRID); absent is undefined.
    for (const vip of new Set([...this.byVip.keys(), ...next.keys()]))
      if (this.byVip.get(vip)?.[5] !== next.get(vip)?.[5]) changed.push(vip);
    this.byVip = next;
    return changed;
  }

  /** The MAC `vip` is at on interface `ifIdx` (hot path: no allocation). */
  macFor(vip: number, ifIdx: number): Uint8Array {
    return this.byVip.get(vip) ?? this.perIf[ifIdx];
  }

  /** Accept frames for other hosts at the MACs of these VIPs (the ones answered), on every interface. */
  setAnswered(vips: Iterable<number>): void {
    const list = [...vips];
    for (let i = 0; i < this.ifs.length; i++) {
      const macs = new Map<string, Uint8Array>();
      if (this.mode === "virtual")
        for (const vip of list) macs.set(String(this.macFor(vip, i)), this.macFor(vip, i));
      this.acceptMacs[i] = [...macs.values()];
      this.acceptHi[i] = this.acceptMacs[i].map((m) => macHi(m, 0));
      this.acceptLo[i] = this.acceptMacs[i].map((m) => macLo(m, 0));
    }
  }

  /** The MACs frames for other hosts are accepted at on `ifIdx` (the unicast filter to program). */
  accepted(ifIdx: number): readonly Uint8Array[] {
    return this.acceptMacs[ifIdx] ?? [];
  }

  /** Is the destination MAC of the frame in `buf` one of our VIP MACs on `ifIdx`? */
  accepts(ifIdx: number, buf: Uint8Array): boolean {
    const hi = this.acceptHi[ifIdx];
    if (hi === undefined || hi.length === 0) return false;
    const h = macHi(buf, 0);
    const l = macLo(buf, 0);
    const lo = this.acceptLo[ifIdx];
    for (let k = 0; k < hi.length; k++) if (hi[k] === h && lo[k] === l) return true;
    return false;
  }
}
