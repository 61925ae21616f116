/** NAT through `uvs run --dataplane packet` in the NAT lab: real kernel peers on both sides. */
import { expect, test } from "bun:test";
import { ab, curl, e2eName, labForFile, loggedClients, SKIP_E2E } from "./e2e-helpers.ts";

const PREFIX = "uvst-engnat";
const env = labForFile("nat", PREFIX, ["eth0", "eth1"]);

test.skipIf(!!SKIP_E2E)(
  e2eName("NAT: the client reaches the VIP, rr spreads, the real server sees the client's own address"),
  () => {
    const { lab, uvs } = env();
    const answers = [1, 2, 3, 4].map(() => curl(lab, `http://${lab.vip}/`));
    expect(answers.sort()).toEqual(["192.0.2.11", "192.0.2.11", "192.0.2.12", "192.0.2.12"]);
    for (const rs of lab.realServers) expect(loggedClients(rs.log)).toContain("203.0.113.2");
    const stats = uvs("ipvsadm", "-Ln", "--stats");
    expect(stats.code).toBe(0);
    const rows = stats.stdout.split("\n").filter((l) => l.includes("-> 192.0.2.1"));
    expect(rows.length).toBe(2);
    for (const row of rows) {
      const [, , conns, inpkts, outpkts] = row.trim().split(/\s+/);
      expect(Number(conns)).toBe(2);
      expect(Number(inpkts)).toBeGreaterThan(4);
      expect(Number(outpkts)).toBeGreaterThan(3); // NAT: replies come back through uvs
    }
    const conns = uvs("ipvsadm", "-Lnc");
    const entries = conns.stdout.split("\n").filter((l) => l.startsWith("TCP"));
    expect(entries.length).toBe(4);
    for (const e of entries) {
      expect(e).toMatch(/TIME_WAIT +203\.0\.113\.2:\d+ +203\.0\.113\.100:80 +192\.0\.2\.1[12]:80/);
    }
  },
  30_000,
);

test.skipIf(!!SKIP_E2E)(
  e2eName("NAT: ab -n 1000 -c 100 through the VIP completes without failures"),
  () => {
    const r = ab(env().lab, `http://${env().lab.vip}/`, 1000, 100);
    expect(r.failed).toBe(0);
    expect(r.complete).toBe(1000);
    const ping = env().uvs("snapshot");
    expect(ping.code).toBe(0);
  },
  60_000,
);
