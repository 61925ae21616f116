/** Shared helpers for the VRRP tests: fixture reading, hex, addresses, adverts. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { VrrpAdvert } from "../../src/ha/vrrp-packet.ts";
import { type IpAddr, parseIp } from "../../src/model/addr.ts";

export const ip = (text: string): IpAddr => {
  const a = parseIp(text);
  if (!a) throw new Error(`bad test address ${text}`);
  return a;
};

/** A VRRPv2 advert for VRID 51, priority 100, 1 s, no authentication, listing `vip`. */
export function advertFor(vip: IpAddr, over: Partial<VrrpAdvert> = {}): VrrpAdvert {
  return {
    version: 2,
    vrid: 51,
    priority: 100,
    intervalCs: 100,
    family: "inet",
    addrs: [vip],
    authType: 0,
    authData: new Uint8Array(8),
    ...over,
  };
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
export const unhex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ""), "hex"));

export interface Frame {
  t: number;
  bytes: Uint8Array;
}

/** A capture fixture: `# …` comment lines, then `<seconds> <hex frame>` per line. */
export function readCapture(name: string): { frames: Frame[]; conf: string } {
  const text = readFileSync(join(import.meta.dir, "fixtures", `${name}.hex`), "utf8");
  const frames: Frame[] = [];
  const conf: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("# conf: ")) conf.push(line.slice(8));
    else if (line && !line.startsWith("#")) {
      const [t, h] = line.split(" ");
      frames.push({ t: Number(t), bytes: unhex(h) });
    }
  }
  return { frames, conf: conf.join("\n") };
}

export const ethType = (f: Uint8Array) => (f[12] << 8) | f[13];
