/**
 * TUN through `uvs run --dataplane packet` in the TUN lab. This kernel may lack IPIP
 * (CONFIG_NET_IPIP), so the real servers cannot decapsulate: the frames are checked on the wire at
 * the real server (tcpdump), and the end-to-end request runs only where IPIP exists.
 */
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { run } from "../../src/lab/netns.ts";
import { curl, e2eName, labForFile, SKIP_E2E } from "./e2e-helpers.ts";

const PREFIX = "uvst-engtun";
const env = labForFile("tun", PREFIX, ["eth0"]);

test.skipIf(!!SKIP_E2E)(
  e2eName(
    "TUN: the client's SYN reaches a real server inside IPIP from the director, inner packet unchanged",
  ),
  async () => {
    const { lab } = env();
    const dumps = ["rs1", "rs2"].map((role) =>
      lab.spawn(role as "rs1" | "rs2", [
        "timeout",
        "8",
        "tcpdump",
        "-l",
        "-nn",
        "-v",
        "-c",
        "1",
        "-i",
        "eth0",
        "ip proto 4",
      ]),
    );
    await Bun.sleep(700); // tcpdump attaches
    curl(lab, `http://${lab.vip}/`); // fails without IPIP at the real server; the frame is what counts
    const out = (await Promise.all(dumps.map((d) => new Response(d.stdout).text()))).join("\n");
    for (const d of dumps) d.kill();
    // Outer: director → real server, protocol IPIP; inner: the client's own SYN to the VIP.
    expect(out).toMatch(/proto IPIP \(4\)/);
    expect(out).toMatch(/192\.0\.2\.2 > 192\.0\.2\.1[12]:/);
    expect(out).toMatch(/203\.0\.113\.2\.\d+ > 192\.0\.2\.100\.80: Flags \[S\]/);
    const entries = env()
      .uvs("ipvsadm", "-Lnc")
      .stdout.split("\n")
      .filter((l) => l.startsWith("TCP"));
    expect(entries.length).toBeGreaterThan(0);
    expect(entries[0]).toMatch(/SYN_RECV +203\.0\.113\.2:\d+ +192\.0\.2\.100:80 +192\.0\.2\.1[12]:80/);
  },
  30_000,
);

/** Can this kernel decapsulate IPIP (CONFIG_NET_IPIP: the ipip module, loaded or loadable)? */
const IPIP =
  existsSync("/sys/module/ipip") || run(["modprobe", "-n", "-q", "ipip"]).code === 0
    ? undefined
    : "this kernel has no IPIP (CONFIG_NET_IPIP not set): real servers cannot decapsulate";

test.skipIf(!!SKIP_E2E || !!IPIP)(
  `TUN end to end: the client gets its answer${IPIP ? ` (skipped: ${IPIP})` : ""}`,
  () => {
    const { lab } = env();
    expect(["192.0.2.11", "192.0.2.12"]).toContain(curl(lab, `http://${lab.vip}/`));
  },
  30_000,
);
