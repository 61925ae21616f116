/**
 * VIPs on the packet plane: the plane owns them at layer 2, so taking a VIP means answering ARP
 * for it and releasing it means staying silent; no address is added to the interface (the
 * director's kernel must not own a DR/NAT/TUN VIP, docs/packet-plane.md). Gratuitous ARP goes
 * out through the plane's worker, from the interface that carries the VIP.
 *
 * Which VIPs get ARP answers: every service VIP that no vrrp_instance lists (they behave as
 * without VRRP), plus the VIPs of instances that are MASTER. VIPs an instance lists stay silent
 * while it is BACKUP or FAULT — also before the first election, so a starting backup never
 * announces a VIP the master holds.
 */

import type { ServiceId } from "../../model/service.ts";
import type { VrrpConfig, VrrpInstanceConfig } from "../vrrp-config.ts";
import { allVips, type VipDriver } from "./vips.ts";

/** What the driver needs of the plane (PacketPlane has it; tests pass a fake). */
export interface ArpPlane {
  setArpFor(vips: string[] | "all"): Promise<boolean>;
  announce(vips?: string[]): Promise<number>;
  /** VIP → VRID: the plane answers for those VIPs at 00:00:5e:00:01:VRID (RFC 5798 §7.3). */
  setVipVrids?(vrids: Record<string, number>): Promise<boolean>;
}

/** VIP → VRID of the first instance that lists it (one virtual router MAC per VIP). */
export function vipVrids(cfg: VrrpConfig): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of cfg.instances) for (const v of instanceVips4(c)) out[v] ??= c.vrid;
  return out;
}

/** IPv4 VIPs of one instance, as text (the plane is IPv4-only). */
export function instanceVips4(c: VrrpInstanceConfig): string[] {
  return allVips(c)
    .filter((v) => v.addr.af === "inet")
    .map((v) => v.addr.text);
}

/** The ARP set: service VIPs that no instance lists, and the VIPs held (sorted, unique). */
export function arpSet(
  serviceVips: Iterable<string>,
  listed: ReadonlySet<string>,
  held: Iterable<string>,
): string[] {
  const out = new Set<string>();
  for (const v of serviceVips) if (!listed.has(v)) out.add(v);
  for (const v of held) out.add(v);
  return [...out].sort();
}

export class PlaneVips implements VipDriver {
  private listed = new Set<string>();
  /** Instance name → its VIPs while it holds them. */
  private readonly held = new Map<string, string[]>();
  private services: string[] = [];
  private last: string | null = null;
  private lastVrids: string | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly plane: ArpPlane) {}

  /** The instances of a (re)loaded configuration: their VIPs are answered only while held. */
  configure(cfg: VrrpConfig): Promise<void> {
    this.listed = new Set(cfg.instances.flatMap(instanceVips4));
    // The ARP set first: a VIP an instance now lists goes silent before its MAC changes.
    const arp = this.push();
    const vrids = this.pushVrids(vipVrids(cfg));
    return arp.then(() => vrids);
  }

  /** The live table's service VIPs; call before the plane applies a new table. */
  setServiceVips(vips: Iterable<string>): Promise<void> {
    this.services = [...new Set(vips)];
    return this.push();
  }

  /** The VIPs the plane answers ARP for now (as last sent). */
  current(): string[] {
    return this.last ? this.last.split(",") : [];
  }

  async take(c: VrrpInstanceConfig): Promise<string[]> {
    this.held.set(c.name, instanceVips4(c));
    return this.pushReporting();
  }

  async release(c: VrrpInstanceConfig): Promise<string[]> {
    this.held.delete(c.name);
    return this.pushReporting();
  }

  /** `perVip` gratuitous ARPs for each IPv4 VIP of `c`; resolves to the frames sent. */
  async announce(c: VrrpInstanceConfig, perVip: number): Promise<number> {
    const vips = instanceVips4(c);
    if (vips.length === 0) return 0;
    let sent = 0;
    for (let i = 0; i < perVip; i++) sent += await this.plane.announce(vips).catch(() => 0);
    return sent;
  }

  close(): void {}

  private async pushReporting(): Promise<string[]> {
    try {
      await this.push();
      return [];
    } catch (e) {
      return [`packet plane: ${(e as Error).message}`];
    }
  }

  /** Send the VIP → VRID map (the VIPs' virtual MACs) when it changed, in order with the ARP sets. */
  private pushVrids(vrids: Record<string, number>): Promise<void> {
    const setVipVrids = this.plane.setVipVrids?.bind(this.plane);
    if (!setVipVrids) return Promise.resolve();
    const run = this.queue.then(async () => {
      const key = JSON.stringify(Object.entries(vrids).sort());
      if (key === this.lastVrids) return;
      await setVipVrids(vrids);
      this.lastVrids = key;
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /** Send the ARP set to the plane when it changed; one at a time, in order. */
  private push(): Promise<void> {
    const run = this.queue.then(async () => {
      const set = arpSet(this.services, this.listed, [...this.held.values()].flat());
      const key = set.join(",");
      if (key === this.last) return;
      await this.plane.setArpFor(set);
      this.last = key;
    });
    this.queue = run.catch(() => {});
    return run;
  }
}

/** The IPv4 VIPs of a configuration's address services (what the packet plane answers for). */
export function serviceVips4(services: readonly { id: ServiceId }[]): string[] {
  const out: string[] = [];
  for (const { id } of services) if (id.kind === "addr" && id.af === "inet") out.push(id.addr.text);
  return out;
}
