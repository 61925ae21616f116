/**
 * `uvs realserver` on a real kernel, inside a namespace of its own: up, up again (nothing to do),
 * check, down, down again; the addresses and sysctls are read back with ip and sysctl.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { addNamespace, deleteNamespace, inNs, run } from "../../src/lab/netns.ts";
import { selfCommand } from "../../src/lab/self.ts";
import { SKIP_LABS, skipWhy } from "./helpers.ts";

const NS = "uvst-labrs";
const uvs = (...args: string[]) => run(inNs(NS, [...selfCommand(), ...args]));
const sysctl = (key: string) => run(inNs(NS, ["sysctl", "-n", key])).stdout.trim();
const loAddrs = () => run(["ip", "-n", NS, "-4", "-o", "addr", "show", "dev", "lo"]).stdout;
const DR = ["--vip", "192.0.2.100", "--mode", "dr"];

beforeAll(() => {
  if (SKIP_LABS) return;
  deleteNamespace(NS);
  addNamespace(NS);
});

afterAll(() => {
  if (!SKIP_LABS) deleteNamespace(NS);
});

test.skipIf(SKIP_LABS)(skipWhy("uvs realserver up/check/down (DR) in a namespace, each idempotent"), () => {
  expect(uvs("realserver", "check", ...DR).code).toBe(1);
  const up = uvs("realserver", "up", ...DR);
  expect(up.code).toBe(0);
  expect(up.stdout).toEndWith("5 changed (192.0.2.100/32 on lo, mode dr)\n");
  expect(loAddrs()).toContain("inet 192.0.2.100/32");
  for (const d of ["all", "lo"]) {
    expect(sysctl(`net.ipv4.conf.${d}.arp_ignore`)).toBe("1");
    expect(sysctl(`net.ipv4.conf.${d}.arp_announce`)).toBe("2");
  }
  const again = uvs("realserver", "up", ...DR);
  expect(again.code).toBe(0);
  expect(again.stdout).toEndWith("nothing to change: already up (192.0.2.100/32 on lo, mode dr)\n");
  expect(loAddrs().match(/192\.0\.2\.100/g)?.length).toBe(1);
  const check = uvs("realserver", "check", ...DR);
  expect(check.code).toBe(0);
  expect(check.stdout).toEndWith("real server ready (192.0.2.100/32 on lo, mode dr)\n");

  const down = uvs("realserver", "down", ...DR);
  expect(down.code).toBe(0);
  expect(loAddrs()).not.toContain("192.0.2.100");
  expect(sysctl("net.ipv4.conf.all.arp_ignore")).toBe("0");
  expect(sysctl("net.ipv4.conf.lo.arp_announce")).toBe("0");
  expect(uvs("realserver", "down", ...DR).stdout).toContain("nothing to change: already down");
  const after = uvs("realserver", "check", ...DR);
  expect(after.code).toBe(1);
  expect(after.stdout).toContain("MISSING VIP 192.0.2.100/32 on lo (absent)");
});

test.skipIf(SKIP_LABS)(
  skipWhy("uvs realserver (TUN) in a namespace: tunl0 present or reported missing"),
  () => {
    const tun = ["--vip", "192.0.2.100", "--mode", "tun"];
    const up = uvs("realserver", "up", ...tun);
    const hasTunl0 = run(["ip", "-n", NS, "link", "show", "tunl0"]).code === 0;
    if (hasTunl0) {
      expect(up.code).toBe(0);
      expect(uvs("realserver", "check", ...tun).code).toBe(0);
    } else {
      expect(up.code).toBe(1);
      expect(up.stdout).toMatch(/^FAILED +tunl0 exists \(kernel module ipip\)/m);
      const check = uvs("realserver", "check", ...tun);
      expect(check.code).toBe(1);
      expect(check.stdout).toContain("MISSING tunl0 exists (kernel module ipip) (does not exist)");
    }
    expect(sysctl("net.ipv4.conf.all.rp_filter")).toBe("0");
    expect(uvs("realserver", "down", ...tun).code).toBe(0);
  },
);
