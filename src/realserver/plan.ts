/**
 * What a real server needs for LVS-DR / LVS-TUN, as the seeds' lvs_real scripts set it up: the VIP
 * as a /32 on lo (DR) or tunl0 (TUN) so the kernel accepts packets to it, arp_ignore=1 and
 * arp_announce=2 so it never answers or announces the VIP on the shared segment, and for TUN
 * rp_filter=0 (the decapsulated packet arrives on tunl0 from a client routed elsewhere).
 * Each step says what must hold, how to see whether it does and how to make it so.
 */
import type { RsSystem } from "./system.ts";

export type RsMode = "dr" | "tun";

export interface RsOptions {
  vip: string;
  mode: RsMode;
  dev: string;
}

export interface Step {
  /** What should hold, e.g. "192.0.2.100/32 on lo". */
  what: string;
  /** undefined when it holds, else what is found instead. */
  test(sys: RsSystem): string | undefined;
  /** Make it hold; undefined on success, else why not. */
  fix(sys: RsSystem): string | undefined;
  /** A device the fix needs (apply does not try when it is missing). */
  dev?: string;
}

export function defaultDev(mode: RsMode): string {
  return mode === "dr" ? "lo" : "tunl0";
}

/** absentOk: a setting that does not exist (its device is gone) counts as holding. */
function sysctlStep(key: string, want: string, absentOk = false): Step {
  const dev = /^net\.ipv4\.conf\.([^.]+)\./.exec(key)?.[1];
  return {
    what: `${key} = ${want}`,
    dev: dev === "all" || dev === "default" ? undefined : dev,
    test: (sys) => {
      const v = sys.readSysctl(key);
      if (v === undefined) return absentOk ? undefined : "no such setting";
      return v === want ? undefined : `is ${v}`;
    },
    fix: (sys) => sys.writeSysctl(key, want),
  };
}

function linkExists(dev: string): Step {
  const tunl0 = dev === "tunl0";
  return {
    what: tunl0 ? "tunl0 exists (kernel module ipip)" : `${dev} exists`,
    test: (sys) => (sys.link(dev).exists ? undefined : "does not exist"),
    fix: (sys) => {
      if (!tunl0) return `create ${dev} first; uvs realserver only loads ipip for tunl0`;
      const err = sys.loadModule("ipip");
      if (err) return `${err} (this kernel has no IPIP tunnel support?)`;
      return sys.link(dev).exists ? undefined : "modprobe ipip succeeded but tunl0 did not appear";
    },
  };
}

function linkUp(dev: string, up: boolean): Step {
  return {
    what: `${dev} is ${up ? "up" : "down"}`,
    dev: up ? dev : undefined,
    test: (sys) => {
      const l = sys.link(dev);
      if (!l.exists) return up ? "does not exist" : undefined;
      return l.up === up ? undefined : `is ${l.up ? "up" : "down"}`;
    },
    fix: (sys) => sys.setLinkUp(dev, up),
  };
}

function vipOn(dev: string, vip: string): Step {
  const cidr = `${vip}/32`;
  return {
    what: `VIP ${cidr} on ${dev}`,
    dev,
    test: (sys) => {
      const l = sys.link(dev);
      if (!l.exists) return `${dev} does not exist`;
      if (l.addrs.includes(cidr)) return undefined;
      const other = l.addrs.find((a) => a.split("/")[0] === vip);
      return other ? `present as ${other}` : "absent";
    },
    fix: (sys) => sys.addAddr(dev, cidr),
  };
}

function vipOff(dev: string, vip: string): Step {
  const cidr = `${vip}/32`;
  return {
    what: `VIP ${cidr} not on ${dev}`,
    test: (sys) => (sys.link(dev).addrs.includes(cidr) ? "present" : undefined),
    fix: (sys) => sys.delAddr(dev, cidr),
  };
}

/** The interfaces whose ARP behaviour matters: all and lo, as the seeds' scripts, plus the VIP's device. */
function arpDevs(dev: string): string[] {
  return [...new Set(["all", "lo", dev])];
}

export function upSteps(o: RsOptions): Step[] {
  const steps: Step[] = [];
  if (o.dev !== "lo") steps.push(linkExists(o.dev));
  steps.push(linkUp(o.dev, true));
  // ARP first: once the VIP is up the host must already keep quiet about it.
  for (const d of arpDevs(o.dev)) steps.push(sysctlStep(`net.ipv4.conf.${d}.arp_ignore`, "1"));
  for (const d of arpDevs(o.dev)) steps.push(sysctlStep(`net.ipv4.conf.${d}.arp_announce`, "2"));
  if (o.mode === "tun")
    for (const d of [...new Set(["all", o.dev])]) steps.push(sysctlStep(`net.ipv4.conf.${d}.rp_filter`, "0"));
  steps.push(vipOn(o.dev, o.vip));
  return steps;
}

/** The seeds' stop branch: VIP removed, ARP back to the kernel's defaults, tunl0 down. rp_filter is left. */
export function downSteps(o: RsOptions): Step[] {
  const steps: Step[] = [vipOff(o.dev, o.vip)];
  for (const d of arpDevs(o.dev)) {
    steps.push(sysctlStep(`net.ipv4.conf.${d}.arp_ignore`, "0", true));
    steps.push(sysctlStep(`net.ipv4.conf.${d}.arp_announce`, "0", true));
  }
  if (o.dev !== "lo") steps.push(linkUp(o.dev, false));
  return steps;
}
