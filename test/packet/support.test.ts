/** What the packet plane refuses before it reaches the table, with the interfaces it runs on. */
import { expect, test } from "bun:test";
import type { InterfaceInfo } from "../../src/dataplane/packet/engine/interfaces.ts";
import { packetRefusal } from "../../src/dataplane/packet/engine/support.ts";
import { ipv4FromU32, parseIpv4Strict } from "../../src/model/addr.ts";
import type { ServiceId } from "../../src/model/service.ts";

const ip = (t: string) => parseIpv4Strict(t)!;
const link = (name: string, cidr: string, gateway = ""): InterfaceInfo => ({
  name,
  mac: new Uint8Array(6),
  mtu: 1500,
  v4: [{ addr: ip(cidr.split("/")[0]), prefix: Number(cidr.split("/")[1]) }],
  gateway: gateway ? ip(gateway) : 0,
});
const svc = {
  kind: "addr",
  af: "inet",
  protocol: "tcp",
  addr: ipv4FromU32(ip("203.0.113.100")),
  port: 80,
} as ServiceId;
const dest = (forward: "masq" | "route" | "tunnel", addr: string) => ({
  af: "inet" as const,
  forward,
  addr: ipv4FromU32(ip(addr)),
});

test("a real server on a link of an --interface is carried, whatever the method", () => {
  const ifs = [link("eth0", "203.0.113.1/24"), link("eth1", "192.0.2.1/24")];
  for (const m of ["masq", "route", "tunnel"] as const)
    expect(packetRefusal(svc, dest(m, "192.0.2.11"), "rs", ifs)).toBeNull();
});

test("the NAT lab run with only eth0 (its hint once said so): refused, naming the links and the fix", () => {
  const why = packetRefusal(svc, dest("masq", "192.0.2.11"), "x.conf:7:5: real server 192.0.2.11:80", [
    link("eth0", "203.0.113.1/24"),
  ]);
  expect(why).toBe(
    "x.conf:7:5: real server 192.0.2.11:80: on no link of the --interfaces (eth0 203.0.113.1/24) and none has a default gateway: the packet data plane could never reach it; add --interface for its link (NAT: the real servers' side too, where their replies come in)",
  );
});

test("behind a gateway: NAT and TUN go there; DR needs the link, as the kernel's", () => {
  const ifs = [link("eth0", "203.0.113.1/24", "203.0.113.254")];
  expect(packetRefusal(svc, dest("tunnel", "198.51.100.20"), "rs", ifs)).toBeNull();
  expect(packetRefusal(svc, dest("masq", "198.51.100.20"), "rs", ifs)).toBeNull();
  expect(packetRefusal(svc, dest("route", "198.51.100.20"), "rs", ifs)).toContain(
    "direct routing needs the real server on a link of an --interface, and it is on none (eth0 203.0.113.1/24)",
  );
});
