/**
 * The DR lab (client — router — bridge with director and two real servers): it comes up with the
 * seed's addresses, plain routing reaches the real servers (which log the client's own address),
 * the real servers hold the VIP on lo but keep quiet about it on the wire, and down removes it all.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { type Lab, labDown, labUp } from "../../src/lab/build.ts";
import { listNamespaces } from "../../src/lab/netns.ts";
import { statePath } from "../../src/lab/state.ts";
import {
  defaultRoute,
  httpGetFrom,
  ipv4Addrs,
  loggedClients,
  SKIP_LABS,
  skipWhy,
  sysctlIn,
} from "./helpers.ts";

const PREFIX = "uvst-labdr";
let lab: Lab | undefined;

beforeAll(async () => {
  if (SKIP_LABS) return;
  await labDown(PREFIX); // a previous run killed midway
  lab = await labUp("dr", { prefix: PREFIX });
}, 30_000);

afterAll(async () => {
  if (!SKIP_LABS) await labDown(PREFIX);
}, 30_000);

test.skipIf(SKIP_LABS)(
  skipWhy("DR lab: namespaces, addresses, routes and forwarding as the seed draws them"),
  () => {
    const l = lab!;
    const ours = listNamespaces().filter((n) => n.startsWith(`${PREFIX}-`));
    expect(ours.sort()).toEqual(
      ["br", "client", "director", "router", "rs1", "rs2"].map((r) => `${PREFIX}-${r}`),
    );
    expect(ipv4Addrs(l, "client", "eth0")).toEqual(["203.0.113.2/24"]);
    expect(ipv4Addrs(l, "router", "eth0")).toEqual(["203.0.113.1/24"]);
    expect(ipv4Addrs(l, "router", "eth1")).toEqual(["192.0.2.1/24"]);
    expect(ipv4Addrs(l, "director", "eth0")).toEqual(["192.0.2.2/24"]);
    expect(ipv4Addrs(l, "rs1", "eth0")).toEqual(["192.0.2.11/24"]);
    expect(ipv4Addrs(l, "rs2", "eth0")).toEqual(["192.0.2.12/24"]);
    expect(defaultRoute(l, "client")).toBe("203.0.113.1");
    for (const r of ["director", "rs1", "rs2"] as const) expect(defaultRoute(l, r)).toBe("192.0.2.1");
    expect(sysctlIn(l, "router", "net.ipv4.ip_forward")).toBe("1");
    expect(sysctlIn(l, "director", "net.ipv4.ip_forward")).toBe("0");
    // The director does not hold the VIP: uvs answers ARP for it.
    expect(ipv4Addrs(l, "director", "lo")).toEqual(["127.0.0.1/8"]);
    expect(existsSync(statePath(PREFIX))).toBe(true);
  },
);

test.skipIf(SKIP_LABS)(
  skipWhy(
    "DR lab: the client reaches each real server through the router and the server logs the client's address",
  ),
  () => {
    const l = lab!;
    for (const rs of l.realServers) {
      const a = httpGetFrom(l, "client", `http://${rs.addr}/`);
      expect(a).toEqual({ status: 200, realServer: rs.addr, body: `${rs.addr}\n` });
      expect(loggedClients(l, rs.role)).toContain("203.0.113.2");
    }
  },
  20_000,
);

test.skipIf(SKIP_LABS)(
  skipWhy(
    "DR lab: real servers hold the VIP on lo with arp_ignore=1/arp_announce=2, so nobody answers ARP for it yet",
  ),
  () => {
    const l = lab!;
    for (const rs of ["rs1", "rs2"] as const) {
      expect(ipv4Addrs(l, rs, "lo")).toContain("192.0.2.100/32");
      for (const d of ["all", "lo"]) {
        expect(sysctlIn(l, rs, `net.ipv4.conf.${d}.arp_ignore`)).toBe("1");
        expect(sysctlIn(l, rs, `net.ipv4.conf.${d}.arp_announce`)).toBe("2");
      }
      expect(l.exec(rs, ["ip", "netns", "identify"]).stdout.trim()).toBe(l.ns(rs)); // exec runs in rs's namespace
    }
    // Without uvs running, the VIP is unreachable: with arp_ignore=0 a real server would answer.
    const a = httpGetFrom(l, "client", "http://192.0.2.100/", 1500);
    expect(a.status).toBeUndefined();
    expect(a.error).toBeDefined();
    const neigh = l.exec("router", ["ip", "neigh", "show", "192.0.2.100", "dev", "eth1"]).stdout;
    expect(neigh).not.toContain("lladdr");
  },
  20_000,
);

test.skipIf(SKIP_LABS)(
  skipWhy(
    "DR lab: the real servers take ab-style load from the client (uvs bench -n 1000 -c 100) without failures",
  ),
  () => {
    const l = lab!;
    const r = l.exec("client", [
      process.execPath,
      `${import.meta.dir}/../../src/main.ts`,
      "bench",
      "-n",
      "1000",
      "-c",
      "100",
      "-s",
      "5",
      "http://192.0.2.11/",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Complete requests:\s+1000/);
    expect(r.stdout).toMatch(/Failed requests:\s+0/);
    expect(loggedClients(l, "rs1").filter((c) => c === "203.0.113.2").length).toBeGreaterThanOrEqual(1000);
  },
  30_000,
);

test.skipIf(SKIP_LABS)(
  skipWhy(
    "DR lab: down removes the namespaces, the HTTP servers and the state, and a second down changes nothing",
  ),
  async () => {
    const first = await labDown(PREFIX);
    expect(first.namespaces.length).toBe(6);
    expect(first.processes).toBe(2);
    expect(listNamespaces().filter((n) => n.startsWith(`${PREFIX}-`))).toEqual([]);
    expect(existsSync(statePath(PREFIX))).toBe(false);
    for (const rs of lab!.realServers) expect(existsSync(rs.log)).toBe(false);
    const second = await labDown(PREFIX);
    expect(second).toEqual({ namespaces: [], processes: 0 });
  },
  30_000,
);
