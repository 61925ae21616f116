/**
 * The TUN lab on a kernel that may lack IPIP: the lab still comes up (so frames can be captured on
 * the wire), records why the real servers are not ready, and `uvs realserver check` says so.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Lab, labDown, labUp } from "../../src/lab/build.ts";
import { selfCommand } from "../../src/lab/self.ts";
import { httpGetFrom, loggedClients, SKIP_LABS, skipWhy, sysctlIn } from "./helpers.ts";

const PREFIX = "uvst-labtun";
let lab: Lab | undefined;

beforeAll(async () => {
  if (SKIP_LABS) return;
  await labDown(PREFIX);
  lab = await labUp("tun", { prefix: PREFIX });
}, 30_000);

afterAll(async () => {
  if (!SKIP_LABS) await labDown(PREFIX);
}, 30_000);

const hasTunl0 = (l: Lab) => l.exec("rs1", ["ip", "link", "show", "tunl0"]).code === 0;

test.skipIf(SKIP_LABS)(
  skipWhy("TUN lab: up with the DR topology; real servers answer the client through the router"),
  () => {
    const l = lab!;
    expect(l.vip).toBe("192.0.2.100");
    for (const rs of l.realServers) {
      expect(httpGetFrom(l, "client", `http://${rs.addr}/`).realServer).toBe(rs.addr);
      expect(loggedClients(l, rs.role)).toContain("203.0.113.2");
      // ARP settings do not depend on tunl0.
      expect(sysctlIn(l, rs.role, "net.ipv4.conf.all.arp_ignore")).toBe("1");
      expect(sysctlIn(l, rs.role, "net.ipv4.conf.all.rp_filter")).toBe("0");
    }
  },
);

test.skipIf(SKIP_LABS)(
  skipWhy("TUN lab: realserver check names what is missing (tunl0 on a kernel without IPIP)"),
  () => {
    const l = lab!;
    const r = l.exec("rs1", [
      ...selfCommand(),
      "realserver",
      "check",
      "--vip",
      "192.0.2.100",
      "--mode",
      "tun",
    ]);
    if (hasTunl0(l)) {
      expect(r.code).toBe(0);
      expect(l.warnings).toEqual([]);
      return;
    }
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^MISSING +tunl0 exists \(kernel module ipip\) \(does not exist\)$/m);
    expect(r.stdout).toMatch(/^MISSING +VIP 192\.0\.2\.100\/32 on tunl0/m);
    expect(r.stdout).toMatch(/^ok +net\.ipv4\.conf\.all\.arp_ignore = 1$/m);
    expect(l.warnings.length).toBe(2);
    expect(l.warnings[0]).toMatch(/^rs1: .*tunl0/);
  },
);
