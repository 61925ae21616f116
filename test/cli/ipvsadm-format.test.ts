/** Formatter unit tests: number scaling, column widths, truncation, labels and sort order. */
import { describe, expect, test } from "bun:test";
import { emptyFormat, type ListFormat } from "../../src/cli/ipvsadm/command.ts";
import { listConnections } from "../../src/cli/ipvsadm/conn.ts";
import { svcEntry } from "../../src/cli/ipvsadm/entries.ts";
import { listAll } from "../../src/cli/ipvsadm/format.ts";
import { makeNameDb } from "../../src/cli/ipvsadm/names.ts";
import { saveText } from "../../src/cli/ipvsadm/save.ts";
import { cmpServices, glibcMergeSort, wrapDiff } from "../../src/cli/ipvsadm/sort.ts";
import { largenum } from "../../src/cli/ipvsadm/text.ts";
import { validateSnapshot } from "../../src/model/snapshot.ts";

const names = makeNameDb("http 80/tcp\nhttp-alt 8080/tcp\n", "192.0.2.1 vip.example\n");
const snap = (o: Record<string, unknown>) => validateSnapshot({ schema: "uvs-state/1", ...o });
const fmt = (o: Partial<ListFormat> = {}): ListFormat => ({ ...emptyFormat(), numeric: true, ...o });
const tcp = (address: string, port: number, extra: Record<string, unknown> = {}) => ({
  protocol: "tcp",
  address,
  port,
  scheduler: "rr",
  ...extra,
});
const bodyOf = (text: string, skip = 3) => text.split("\n").slice(skip).join("\n");

describe("largenum", () => {
  const cases: [bigint, string][] = [
    [0n, "        0"],
    [99999999n, " 99999999"],
    [100000000n, "  100000K"],
    [999999999n, "  999999K"],
    [1000000000n, "     1000M"],
    [99999999999n, "   99999M"],
    [100000000000n, "      100G"],
    [99999999999999n, "   99999G"],
    [100000000000000n, "      100T"],
    [18446744073709551615n, "18446744T"],
  ];
  for (const [v, s] of cases) test(`${v}`, () => expect(largenum(v, false)).toBe(s.slice(-9).padStart(9)));
  test("exact: at least 9 wide, one leading blank when longer", () => {
    expect(largenum(12345678n, true)).toBe(" 12345678");
    expect(largenum(123456789n, true)).toBe(" 123456789");
    expect(largenum(18446744073709551615n, true)).toBe(" 18446744073709551615");
  });
});

describe("listing widths and truncation", () => {
  const s = snap({
    services: [
      tcp("192.0.2.1", 80, {
        stats: { conns: 4294967301, inpkts: 2 ** 33, outpkts: 1, inbytes: 2 ** 40, outbytes: 5 },
        destinations: [
          {
            address: "198.51.100.1",
            port: 8080,
            forward: "masq",
            stats: { conns: 4294967301, inpkts: 2 ** 33 + 7, outpkts: 1, inbytes: 2 ** 40, outbytes: 5 },
            rates: { cps: 2 ** 32 + 3, inpps: 123456789, outpps: 0, inbps: 2 ** 32 + 1, outbps: 0 },
          },
        ],
      }),
    ],
  });

  test("--stats: services keep 64-bit counters, real servers keep only the low 32 bits (except bytes)", () => {
    const out = bodyOf(listAll(s, fmt({ stats: true }), names));
    expect(out).toBe(
      "TCP  192.0.2.1:80                    4294M    8589M        1    1099G        5\n" +
        "  -> 198.51.100.1:8080                   5        7        1    1099G        5\n",
    );
  });

  test("--rate: real-server CPS/PPS are never scaled", () => {
    const out = bodyOf(listAll(s, fmt({ rate: true }), names));
    expect(out.split("\n")[1]).toBe(
      "  -> 198.51.100.1:8080                   3 123456789        0        1        0",
    );
  });

  test("default view pads dest columns and keeps trailing blanks", () => {
    const out = bodyOf(listAll(s, fmt(), names));
    expect(out).toBe(
      "TCP  192.0.2.1:80 rr\n  -> 198.51.100.1:8080            Masq    1      0          0         \n",
    );
  });

  test("labels: names, 33/28-column cuts for IPv4, none for IPv6", () => {
    const named = listAll(s, { ...emptyFormat() }, names);
    expect(named).toContain("TCP  vip.example:http rr\n  -> 198.51.100.1:http-alt ");
    const longNames = makeNameDb("", `192.0.2.1 ${"v".repeat(40)}\n198.51.100.1 ${"r".repeat(40)}\n`);
    const cut = bodyOf(listAll(s, { ...emptyFormat(), stats: true }, longNames)).split("\n");
    expect(cut[0].slice(0, 33)).toBe(`TCP  ${"v".repeat(28)}`);
    expect(cut[1].slice(0, 33)).toBe(`  -> ${"r".repeat(28)}`);
    const v6 = snap({
      services: [
        tcp("2001:db8:1234:5678:9abc:def0:1234:5678", 443, {
          af: "inet6",
          destinations: [
            { af: "inet6", address: "2001:db8:1234:5678:9abc:def0:1234:1", port: 443, forward: "masq" },
          ],
        }),
      ],
    });
    expect(bodyOf(listAll(v6, fmt({ stats: true }), names))).toStartWith(
      "TCP  [2001:db8:1234:5678:9abc:def0:1234:5678]:443        0",
    );
    expect(bodyOf(listAll(v6, fmt(), names))).toContain(
      "  -> [2001:db8:1234:5678:9abc:def0:1234:1]:443 Masq    1",
    );
  });

  test("fwmark >= 2^31 prints negative; marks more than 2^31 apart sort backwards", () => {
    const f = snap({
      services: [
        { fwmark: 1, scheduler: "rr" },
        { fwmark: 3000000000, scheduler: "rr" },
        { fwmark: 2147483648, scheduler: "rr" },
        {
          fwmark: 5,
          af: "inet6",
          netmask: 64,
          scheduler: "sh",
          sched_flags: ["sh-port"],
          persistent: true,
          persistence_timeout: 30,
        },
      ],
    });
    expect(bodyOf(listAll(f, fmt(), names))).toBe(
      "FWM  -1294967296 rr\nFWM  1 rr\nFWM  5 IPv6 sh (sh-port) persistent 30 mask 64\nFWM  -2147483648 rr\n",
    );
    expect(saveText(f, true, names)).toBe(
      "-A -f -1294967296 -s rr\n-A -f 1 -s rr\n-A -f 5 -6 -s sh -p 30 -M 64 -b sh-port\n-A -f -2147483648 -s rr\n",
    );
  });

  test("service flags: ops, pe only when persistent in -L, always in -S", () => {
    const f = snap({
      services: [
        {
          protocol: "udp",
          address: "192.0.2.5",
          port: 53,
          scheduler: "wlc",
          one_packet: true,
          pe_name: "sip",
        },
        tcp("192.0.2.6", 0, {
          persistent: true,
          persistence_timeout: 360,
          netmask: "255.255.0.0",
          pe_name: "sip",
        }),
      ],
    });
    expect(bodyOf(listAll(f, fmt(), names))).toBe(
      "TCP  192.0.2.6:0 rr persistent 360 mask 255.255.0.0 pe sip\nUDP  192.0.2.5:53 wlc ops\n",
    );
    expect(saveText(f, true, names)).toBe(
      "-A -t 192.0.2.6:0 -s rr -p 360 -M 255.255.0.0 --pe sip\n-A -u 192.0.2.5:53 -s wlc --pe sip -o\n",
    );
  });
});

describe("sorting", () => {
  test("addresses more than 2^31 apart compare backwards", () => {
    expect(wrapDiff(0x0a000001, 0xc0a80001)).toBeGreaterThan(0);
    const s = snap({ services: [tcp("10.0.0.1", 80), tcp("192.168.0.1", 80), tcp("10.0.0.1", 22)] });
    expect(bodyOf(listAll(s, fmt(), names))).toBe(
      "TCP  192.168.0.1:80 rr\nTCP  10.0.0.1:22 rr\nTCP  10.0.0.1:80 rr\n",
    );
    expect(bodyOf(listAll(s, fmt({ nosort: true }), names))).toBe(
      "TCP  10.0.0.1:80 rr\nTCP  192.168.0.1:80 rr\nTCP  10.0.0.1:22 rr\n",
    );
  });

  test("merge order with a non-transitive comparator follows glibc's msort", () => {
    // a<b, b<c but c<a under (int)(x-y): the result depends on the merge order.
    const sorted = (addrs: string[]) =>
      glibcMergeSort(
        addrs.map((a) => svcEntry(snap({ services: [tcp(a, 80)] }).services[0])),
        cmpServices,
      ).map((e) => e.addr?.text);
    expect(sorted(["0.0.0.1", "96.0.0.0", "192.0.0.0"])).toEqual(["0.0.0.1", "96.0.0.0", "192.0.0.0"]);
    expect(sorted(["192.0.0.0", "0.0.0.1", "96.0.0.0"])).toEqual(["192.0.0.0", "0.0.0.1", "96.0.0.0"]);
    expect(sorted(["96.0.0.0", "192.0.0.0", "0.0.0.1"])).toEqual(["96.0.0.0", "192.0.0.0", "0.0.0.1"]);
  });

  test("family, protocol, then port", () => {
    const s = snap({
      services: [
        { protocol: "sctp", address: "192.0.2.1", port: 1, scheduler: "rr" },
        { af: "inet6", protocol: "tcp", address: "::1", port: 1, scheduler: "rr" },
        { protocol: "udp", address: "192.0.2.1", port: 1, scheduler: "rr" },
        tcp("192.0.2.1", 2),
      ],
    });
    expect(bodyOf(listAll(s, fmt(), names))).toBe(
      "TCP  192.0.2.1:2 rr\nUDP  192.0.2.1:1 rr\nSCTP 192.0.2.1:1 rr\nTCP  [::1]:1 rr\n",
    );
  });
});

describe("-c connections", () => {
  const conn = (o: Record<string, unknown>) => ({
    protocol: "TCP",
    client_address: "203.0.113.1",
    client_port: 1000,
    virtual_address: "192.0.2.1",
    virtual_port: 80,
    dest_address: "198.51.100.1",
    dest_port: 80,
    state: "ESTABLISHED",
    expires: 61,
    ...o,
  });
  const s = snap({
    connections: [
      conn({}),
      conn({ protocol: "UDP", state: "UDP", expires: 4294967295, pe_name: "sip", pe_data: "call-1" }),
      conn({
        protocol: "IP",
        virtual_address: "0.0.0.9",
        virtual_port: 0,
        client_port: 0,
        dest_port: 0,
        state: "NONE",
      }),
    ],
  });

  test("rows, expiry beyond 99 minutes and PE columns", () => {
    expect(listConnections(s, true, false, names).split("\n").slice(2).join("\n")).toBe(
      "TCP 01:01  ESTABLISHED 203.0.113.1:1000   192.0.2.1:80       198.51.100.1:80\n" +
        "UDP 71582788:15 UDP         203.0.113.1:1000   192.0.2.1:80       198.51.100.1:80\n" +
        "IP  01:01  NONE        203.0.113.1:0      0.0.0.9:0          198.51.100.1:0\n",
    );
    const pc = listConnections(s, true, true, names).split("\n");
    expect(pc[1]).toBe(
      "pro expire state       source             virtual            destination        pe name          pe_data",
    );
    expect(pc[3]).toBe(
      "UDP 71582788:15 UDP         203.0.113.1:1000   192.0.2.1:80       198.51.100.1:80  sip                call-1",
    );
    expect(pc[2]).toBe("TCP 01:01  ESTABLISHED 203.0.113.1:1000   192.0.2.1:80       198.51.100.1:80");
  });

  test("names resolved without -n, but never the ports of IP templates", () => {
    const out = listConnections(s, false, false, names).split("\n");
    expect(out[2]).toContain("vip.example:http");
    expect(out[4]).toBe("IP  01:01  NONE        203.0.113.1:0      0.0.0.9:0          198.51.100.1:0");
  });
});
