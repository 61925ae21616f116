/** What `uvs lab up` prints: the command that runs uvs in the director names the right links. */
import { expect, test } from "bun:test";
import { describeLab } from "../../src/lab/describe.ts";
import { topology } from "../../src/lab/topology.ts";

test("the NAT lab's command names both director links (the real servers are on eth1); DR and TUN one", () => {
  const cmd = (kind: "nat" | "dr" | "tun") =>
    describeLab(topology(kind), "p", "/run/uvs-lab/p.conf")
      .split("\n")
      .find((l) => l.includes(" run --dataplane packet "));
  expect(cmd("nat")).toContain(
    " run --dataplane packet --interface eth0 --interface eth1 --rules /run/uvs-lab/p.conf",
  );
  for (const k of ["dr", "tun"] as const)
    expect(cmd(k)).toContain(" run --dataplane packet --interface eth0 --rules /run/uvs-lab/p.conf");
});
