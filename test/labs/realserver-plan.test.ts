/**
 * `uvs realserver` against a fake host: what up/down/check change and report, idempotence, exit
 * codes, argument errors, and the root check. The namespace test runs the same on a real kernel.
 */
import { expect, test } from "bun:test";
import { parseRealserverArgs, realserver } from "../../src/cli/realserver.ts";
import type { LinkState, RsSystem } from "../../src/realserver/system.ts";

interface FakeHost extends RsSystem {
  sysctls: Map<string, string>;
  links: Map<string, LinkState>;
  canLoadIpip: boolean;
}

function fakeHost(canLoadIpip = true): FakeHost {
  const sysctls = new Map<string, string>();
  for (const d of ["all", "lo", "default", "eth0"])
    for (const k of ["arp_ignore", "arp_announce"]) sysctls.set(`net.ipv4.conf.${d}.${k}`, "0");
  for (const d of ["all", "lo", "default", "eth0"]) sysctls.set(`net.ipv4.conf.${d}.rp_filter`, "2");
  const links = new Map<string, LinkState>([["lo", { exists: true, up: true, addrs: ["127.0.0.1/8"] }]]);
  const h: FakeHost = {
    sysctls,
    links,
    canLoadIpip,
    readSysctl: (k) => sysctls.get(k),
    writeSysctl(k, v) {
      if (!sysctls.has(k)) return `no ${k}`;
      sysctls.set(k, v);
    },
    link: (d) => links.get(d) ?? { exists: false, up: false, addrs: [] },
    addAddr(d, cidr) {
      const l = links.get(d);
      if (!l) return `Cannot find device "${d}"`;
      if (l.addrs.includes(cidr)) return "File exists";
      l.addrs.push(cidr);
    },
    delAddr(d, cidr) {
      const l = links.get(d);
      if (!l?.addrs.includes(cidr)) return "Cannot assign requested address";
      l.addrs = l.addrs.filter((a) => a !== cidr);
    },
    setLinkUp(d, up) {
      const l = links.get(d);
      if (!l) return `Cannot find device "${d}"`;
      l.up = up;
    },
    loadModule(name) {
      if (name !== "ipip" || !h.canLoadIpip) return "modprobe: FATAL: Module ipip not found";
      if (!links.has("tunl0")) {
        links.set("tunl0", { exists: true, up: false, addrs: [] });
        for (const k of ["arp_ignore", "arp_announce"]) sysctls.set(`net.ipv4.conf.tunl0.${k}`, "0");
        sysctls.set("net.ipv4.conf.tunl0.rp_filter", "1");
      }
    },
  };
  return h;
}

function rs(args: string[], sys: RsSystem, isRoot = true) {
  let out = "";
  let err = "";
  const code = realserver(args, { out: (t) => (out += t), err: (t) => (err += t), sys, isRoot });
  return { code, out, err };
}

const DR = ["--vip", "192.0.2.100", "--mode", "dr"];
const TUN = ["--vip", "192.0.2.100", "--mode", "tun"];

test("realserver up (DR): VIP /32 on lo, arp_ignore=1 and arp_announce=2 on all and lo", () => {
  const h = fakeHost();
  const r = rs(["up", ...DR], h);
  expect(r.code).toBe(0);
  expect(h.links.get("lo")!.addrs).toEqual(["127.0.0.1/8", "192.0.2.100/32"]);
  for (const d of ["all", "lo"]) {
    expect(h.sysctls.get(`net.ipv4.conf.${d}.arp_ignore`)).toBe("1");
    expect(h.sysctls.get(`net.ipv4.conf.${d}.arp_announce`)).toBe("2");
  }
  expect(h.sysctls.get("net.ipv4.conf.eth0.arp_ignore")).toBe("0"); // only what the seeds set
  expect(h.sysctls.get("net.ipv4.conf.all.rp_filter")).toBe("2"); // DR leaves rp_filter alone
  expect(r.out).toContain("set     VIP 192.0.2.100/32 on lo (before: absent)\n");
  expect(r.out).toContain("set     net.ipv4.conf.all.arp_ignore = 1 (before: is 0)\n");
  expect(r.out).toEndWith("5 changed (192.0.2.100/32 on lo, mode dr)\n");
});

test("realserver up twice: the second run changes nothing and says so", () => {
  const h = fakeHost();
  rs(["up", ...DR], h);
  const before = JSON.stringify([...h.sysctls, ...h.links]);
  const r = rs(["up", ...DR], h);
  expect(r.code).toBe(0);
  expect(JSON.stringify([...h.sysctls, ...h.links])).toBe(before);
  expect(r.out).not.toContain("set ");
  expect(r.out).toEndWith("nothing to change: already up (192.0.2.100/32 on lo, mode dr)\n");
});

test("realserver check: exit 1 listing what is missing, exit 0 once up", () => {
  const h = fakeHost();
  const missing = rs(["check", ...DR], h);
  expect(missing.code).toBe(1);
  expect(missing.out).toContain("MISSING VIP 192.0.2.100/32 on lo (absent)\n");
  expect(missing.out).toContain("MISSING net.ipv4.conf.lo.arp_announce = 2 (is 0)\n");
  expect(missing.out).toEndWith("5 missing for 192.0.2.100/32 on lo, mode dr\n");
  h.sysctls.set("net.ipv4.conf.all.arp_ignore", "1");
  expect(rs(["check", ...DR], h).out).toEndWith("4 missing for 192.0.2.100/32 on lo, mode dr\n");
  rs(["up", ...DR], h);
  const ok = rs(["check", ...DR], h);
  expect(ok.code).toBe(0);
  expect(ok.out).toEndWith("real server ready (192.0.2.100/32 on lo, mode dr)\n");
  expect(ok.out).not.toContain("MISSING");
});

test("realserver check: a VIP with another prefix length is reported as such", () => {
  const h = fakeHost();
  h.links.get("lo")!.addrs.push("192.0.2.100/24");
  expect(rs(["check", ...DR], h).out).toContain(
    "MISSING VIP 192.0.2.100/32 on lo (present as 192.0.2.100/24)\n",
  );
});

test("realserver down: VIP removed, ARP settings back to 0; idempotent", () => {
  const h = fakeHost();
  rs(["up", ...DR], h);
  const r = rs(["down", ...DR], h);
  expect(r.code).toBe(0);
  expect(h.links.get("lo")!.addrs).toEqual(["127.0.0.1/8"]);
  expect(h.sysctls.get("net.ipv4.conf.all.arp_ignore")).toBe("0");
  expect(h.sysctls.get("net.ipv4.conf.lo.arp_announce")).toBe("0");
  const again = rs(["down", ...DR], h);
  expect(again.code).toBe(0);
  expect(again.out).toEndWith("nothing to change: already down (192.0.2.100/32 on lo, mode dr)\n");
});

test("realserver up (TUN): loads ipip, brings tunl0 up with the VIP and rp_filter=0 on tunl0 and all", () => {
  const h = fakeHost();
  const r = rs(["up", ...TUN], h);
  expect(r.code).toBe(0);
  const t = h.links.get("tunl0")!;
  expect(t).toEqual({ exists: true, up: true, addrs: ["192.0.2.100/32"] });
  expect(h.sysctls.get("net.ipv4.conf.tunl0.rp_filter")).toBe("0");
  expect(h.sysctls.get("net.ipv4.conf.all.rp_filter")).toBe("0");
  expect(h.sysctls.get("net.ipv4.conf.all.arp_ignore")).toBe("1");
  expect(h.links.get("lo")!.addrs).toEqual(["127.0.0.1/8"]);
  expect(rs(["check", ...TUN], h).code).toBe(0);
  const down = rs(["down", ...TUN], h);
  expect(down.code).toBe(0);
  expect(h.links.get("tunl0")).toEqual({ exists: true, up: false, addrs: [] });
});

test("realserver up (TUN) without IPIP: fails naming tunl0, still sets what it can, exit 1", () => {
  const h = fakeHost(false);
  const r = rs(["up", ...TUN], h);
  expect(r.code).toBe(1);
  expect(r.out).toContain(
    "FAILED  tunl0 exists (kernel module ipip) (modprobe: FATAL: Module ipip not found (this kernel has no IPIP tunnel support?))\n",
  );
  expect(r.out).toContain("FAILED  VIP 192.0.2.100/32 on tunl0 (tunl0 does not exist)\n");
  expect(h.sysctls.get("net.ipv4.conf.all.arp_ignore")).toBe("1");
  expect(h.sysctls.get("net.ipv4.conf.all.rp_filter")).toBe("0");
  const c = rs(["check", ...TUN], h);
  expect(c.code).toBe(1);
  expect(c.out).toContain("MISSING tunl0 exists (kernel module ipip) (does not exist)\n");
  // down on a host that never had tunl0 has nothing left to undo for it
  rs(["down", ...TUN], h);
  expect(rs(["down", ...TUN], h).code).toBe(0);
});

test("realserver up/down need root; check does not", () => {
  const h = fakeHost();
  const r = rs(["up", ...DR], h, false);
  expect(r.code).toBe(1);
  expect(r.err).toBe("uvs realserver up: must run as root (it changes addresses and sysctls)\n");
  expect(h.links.get("lo")!.addrs).toEqual(["127.0.0.1/8"]);
  expect(rs(["check", ...DR], h, false).code).toBe(1);
});

test("realserver arguments: errors name the option and value", () => {
  expect(parseRealserverArgs(["up", "--vip", "192.0.2.100", "--mode", "dr"])).toEqual({
    action: "up",
    vip: "192.0.2.100",
    mode: "dr",
    dev: "lo",
  });
  expect(parseRealserverArgs(["check", "--vip=192.0.2.100", "--mode=tun"])).toMatchObject({ dev: "tunl0" });
  expect(parseRealserverArgs(["up", ...DR, "--dev", "dummy0"])).toMatchObject({ dev: "dummy0" });
  expect(parseRealserverArgs(["start", ...DR])).toStartWith(
    'uvs realserver: expected up, down or check, got "start"',
  );
  expect(parseRealserverArgs(["up", "--vip", "192.0.2.300", "--mode", "dr"])).toStartWith(
    'uvs realserver: --vip: "192.0.2.300" is not an IPv4 address',
  );
  expect(parseRealserverArgs(["up", "--vip", "192.0.2.1", "--mode", "nat"])).toStartWith(
    'uvs realserver: --mode: "nat" is not dr or tun',
  );
  expect(parseRealserverArgs(["up", ...DR, "--dev", "eth0.100"])).toStartWith(
    'uvs realserver: --dev: "eth0.100" is not a device name',
  );
  expect(parseRealserverArgs(["up", "--mode", "dr"])).toStartWith(
    "uvs realserver: --vip and --mode are required",
  );
  expect(parseRealserverArgs(["up", "--vip"])).toStartWith("uvs realserver: --vip needs a value");
  expect(rs(["up", "--bogus", "1"], fakeHost()).code).toBe(2);
});
