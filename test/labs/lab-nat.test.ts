/**
 * The NAT lab: the client's only way to the real servers is the director, whose kernel must not
 * forward (uvs does); the director reaches them on its inside interface and they log its address.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Lab, labDown, labUp } from "../../src/lab/build.ts";
import { listNamespaces } from "../../src/lab/netns.ts";
import {
  defaultRoute,
  httpGetFrom,
  ipv4Addrs,
  loggedClients,
  SKIP_LABS,
  skipWhy,
  sysctlIn,
} from "./helpers.ts";

const PREFIX = "uvst-labnat";
let lab: Lab | undefined;

beforeAll(async () => {
  if (SKIP_LABS) return;
  await labDown(PREFIX);
  lab = await labUp("nat", { prefix: PREFIX });
}, 30_000);

afterAll(async () => {
  if (!SKIP_LABS) await labDown(PREFIX);
}, 30_000);

test.skipIf(SKIP_LABS)(skipWhy("NAT lab: two-legged director, real servers routed through it"), () => {
  const l = lab!;
  expect(
    listNamespaces()
      .filter((n) => n.startsWith(`${PREFIX}-`))
      .sort(),
  ).toEqual(["br", "client", "director", "rs1", "rs2"].map((r) => `${PREFIX}-${r}`));
  expect(ipv4Addrs(l, "client", "eth0")).toEqual(["203.0.113.2/24"]);
  expect(ipv4Addrs(l, "director", "eth0")).toEqual(["203.0.113.1/24"]);
  expect(ipv4Addrs(l, "director", "eth1")).toEqual(["192.0.2.1/24"]);
  expect(ipv4Addrs(l, "rs1", "eth0")).toEqual(["192.0.2.11/24"]);
  expect(ipv4Addrs(l, "rs2", "eth0")).toEqual(["192.0.2.12/24"]);
  expect(defaultRoute(l, "client")).toBe("203.0.113.1");
  expect(defaultRoute(l, "rs1")).toBe("192.0.2.1");
  expect(defaultRoute(l, "rs2")).toBe("192.0.2.1");
  expect(sysctlIn(l, "director", "net.ipv4.ip_forward")).toBe("0");
  // NAT real servers need no VIP and no ARP tricks.
  expect(ipv4Addrs(l, "rs1", "lo")).toEqual(["127.0.0.1/8"]);
  expect(l.vip).toBe("203.0.113.100");
});

test.skipIf(SKIP_LABS)(
  skipWhy("NAT lab: the director reaches the real servers; the client cannot, its kernel does not forward"),
  () => {
    const l = lab!;
    for (const rs of l.realServers) {
      expect(httpGetFrom(l, "director", `http://${rs.addr}/`)).toEqual({
        status: 200,
        realServer: rs.addr,
        body: `${rs.addr}\n`,
      });
      expect(loggedClients(l, rs.role)).toEqual(["192.0.2.1"]);
    }
    const blocked = httpGetFrom(l, "client", "http://192.0.2.11/", 1000);
    expect(blocked.error).toBeDefined();
    expect(loggedClients(l, "rs1")).toEqual(["192.0.2.1"]);
  },
  20_000,
);
