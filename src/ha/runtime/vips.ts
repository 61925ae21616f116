/**
 * Taking and releasing an instance's virtual addresses. The default driver does what keepalived
 * does on the proxy plane: `ip addr add/del VIP/len dev IF [brd] [scope] [label]`, and sends its
 * gratuitous ARPs through an AF_PACKET socket. On the packet plane the plane owns the VIP at
 * layer 2: `PlaneVips` (plane-vips.ts) calls its setArpFor/announce instead (see docs/vrrp.md).
 */
import { PacketSocket } from "../../sys/libc.ts";
import type { VipConfig, VrrpInstanceConfig } from "../vrrp-config.ts";
import { encodeGarp } from "../vrrp-frame.ts";
import { interfaceMac } from "./net-info.ts";

export interface VipDriver {
  /** Make the VIPs local (or answered for). Resolves with the problems, empty when all went well. */
  take(c: VrrpInstanceConfig): Promise<string[]>;
  release(c: VrrpInstanceConfig): Promise<string[]>;
  /** `perVip` gratuitous ARPs for every IPv4 VIP; returns how many went out. */
  announce(c: VrrpInstanceConfig, perVip: number): number | Promise<number>;
  close(): void;
}

/** Every address the instance adds: carried VIPs first, then the excluded ones. */
export function allVips(c: VrrpInstanceConfig): VipConfig[] {
  return [...c.vips, ...c.excludedVips];
}

export function vipDev(c: VrrpInstanceConfig, v: VipConfig): string | null {
  return v.dev ?? c.interface;
}

/** The `ip addr` arguments for one VIP (keepalived's keywords map one to one). */
export function ipAddrArgs(op: "add" | "del", v: VipConfig, dev: string): string[] {
  const a = ["addr", op, `${v.addr.text}/${v.prefix}`, "dev", dev];
  if (op === "add") {
    if (v.brd) a.push("broadcast", v.brd);
    if (v.scope) a.push("scope", v.scope);
    if (v.label) a.push("label", v.label);
  }
  return a;
}

async function ip(args: string[]): Promise<{ ok: boolean; err: string }> {
  try {
    const p = Bun.spawn(["ip", ...args], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    const err = (await new Response(p.stderr).text()).trim();
    return { ok: (await p.exited) === 0, err };
  } catch (e) {
    return { ok: false, err: (e as Error).message };
  }
}

export class IpAddrVips implements VipDriver {
  private readonly arp = new Map<string, { sock: PacketSocket; mac: Uint8Array } | null>();

  async take(c: VrrpInstanceConfig): Promise<string[]> {
    return this.each(c, "add", /File exists/);
  }

  async release(c: VrrpInstanceConfig): Promise<string[]> {
    return this.each(c, "del", /Cannot assign requested address|No such|not found/i);
  }

  private async each(c: VrrpInstanceConfig, op: "add" | "del", harmless: RegExp): Promise<string[]> {
    const problems: string[] = [];
    for (const v of allVips(c)) {
      const dev = vipDev(c, v);
      if (!dev) {
        problems.push(`${v.addr.text}: no interface (give it 'dev IF')`);
        continue;
      }
      const r = await ip(ipAddrArgs(op, v, dev));
      if (!r.ok && !harmless.test(r.err)) problems.push(`ip ${ipAddrArgs(op, v, dev).join(" ")}: ${r.err}`);
    }
    return problems;
  }

  announce(c: VrrpInstanceConfig, perVip: number): number {
    let sent = 0;
    for (const v of allVips(c)) {
      const dev = vipDev(c, v);
      if (v.addr.af !== "inet" || !dev) continue; // IPv6 unsolicited NA: not built yet
      const out = this.socket(dev);
      if (!out) continue;
      const frame = encodeGarp(out.mac, v.addr);
      for (let i = 0; i < perVip; i++) if (out.sock.sendOne(frame) > 0) sent++;
    }
    return sent;
  }

  private socket(dev: string): { sock: PacketSocket; mac: Uint8Array } | null {
    if (!this.arp.has(dev)) {
      const mac = interfaceMac(dev);
      let entry: { sock: PacketSocket; mac: Uint8Array } | null = null;
      try {
        // send-only: a GARP socket has no business receiving every frame on the link
        if (mac) entry = { sock: PacketSocket.openSendOnly(dev), mac };
      } catch {
        entry = null;
      }
      this.arp.set(dev, entry);
    }
    return this.arp.get(dev) ?? null;
  }

  close(): void {
    for (const e of this.arp.values()) e?.sock.close();
    this.arp.clear();
  }
}

/** The addresses an advert of `c` carries, as text (for views and logs). */
export function vipTexts(c: VrrpInstanceConfig): string[] {
  const host = (v: VipConfig) => v.prefix === (v.addr.af === "inet" ? 32 : 128);
  return c.vips.map((v) => (host(v) ? v.addr.text : `${v.addr.text}/${v.prefix}`));
}
