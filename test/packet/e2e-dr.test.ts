/** DR through `uvs run --dataplane packet` in the DR lab: real servers answer the client directly. */
import { expect, test } from "bun:test";
import { ab, curl, e2eName, labForFile, loggedClients, SKIP_E2E } from "./e2e-helpers.ts";

const PREFIX = "uvst-engdr";
const env = labForFile("dr", PREFIX, ["eth0"]);

test.skipIf(!!SKIP_E2E)(
  e2eName("DR: answers come from the VIP straight from the real servers; OutPkts stays 0; input-only states"),
  () => {
    const { lab, uvs } = env();
    const answers = [1, 2, 3, 4].map(() => curl(lab, `http://${lab.vip}/`));
    expect(answers.sort()).toEqual(["192.0.2.11", "192.0.2.11", "192.0.2.12", "192.0.2.12"]);
    for (const rs of lab.realServers) expect(loggedClients(rs.log)).toContain("203.0.113.2");
    const stats = uvs("ipvsadm", "-Ln", "--stats");
    const rows = stats.stdout.split("\n").filter((l) => l.includes("-> 192.0.2.1"));
    expect(rows.length).toBe(2);
    for (const row of rows) {
      const [, , conns, inpkts, outpkts, , outbytes] = row.trim().split(/\s+/);
      expect(Number(conns)).toBe(2);
      expect(Number(inpkts)).toBeGreaterThan(4);
      expect(Number(outpkts)).toBe(0);
      expect(Number(outbytes)).toBe(0);
    }
    // The director sees only the client's half: after its FIN, FIN_WAIT (the input-only table).
    const entries = uvs("ipvsadm", "-Lnc")
      .stdout.split("\n")
      .filter((l) => l.startsWith("TCP"));
    expect(entries.length).toBe(4);
    for (const e of entries)
      expect(e).toMatch(/FIN_WAIT +203\.0\.113\.2:\d+ +192\.0\.2\.100:80 +192\.0\.2\.1[12]:80/);
  },
  30_000,
);

test.skipIf(!!SKIP_E2E)(
  e2eName("DR: ab -n 1000 -c 100 through the VIP completes without failures"),
  () => {
    const r = ab(env().lab, `http://${env().lab.vip}/`, 1000, 100);
    expect(r.failed).toBe(0);
    expect(r.complete).toBe(1000);
  },
  60_000,
);
