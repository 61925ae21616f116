/** Ops from the control socket are checked field by field before they reach the table. */
import { expect, test } from "bun:test";
import { runIpvsadm } from "../../src/cli/ipvsadm/run.ts";
import { checkOp } from "../../src/control/op-check.ts";
import type { DirectorBackend, DirectorOp } from "../../src/director/api.ts";
import { createMemoryBackend } from "../../src/director/offline-backend.ts";
import { emptySnapshot } from "../../src/model/snapshot.ts";

/** The ops our ipvsadm sends for `lines`, after a JSON round trip (as over the socket). */
async function opsOf(lines: string[][]): Promise<unknown[]> {
  const seen: unknown[] = [];
  const mem = createMemoryBackend(emptySnapshot());
  const backend: DirectorBackend = {
    snapshot: () => mem.snapshot(),
    apply: (op: DirectorOp) => {
      seen.push(JSON.parse(JSON.stringify(op)));
      return mem.apply(op);
    },
    commit: async () => {},
  };
  for (const argv of lines)
    await runIpvsadm(argv, { argv0: "ipvsadm", readStdin: async () => "", openBackend: async () => backend });
  return seen;
}

test("every op our ipvsadm sends passes unchanged", async () => {
  const ops = await opsOf([
    ["-A", "-t", "192.0.2.1:80", "-s", "sh", "-b", "sh-port", "-p", "60", "-M", "255.255.255.0"],
    ["-a", "-t", "192.0.2.1:80", "-r", "198.51.100.1:8080", "-m", "-w", "3", "-x", "10", "-y", "2"],
    ["-a", "-t", "192.0.2.1:80", "-r", "198.51.100.2", "-i", "--tun-type", "gue", "--tun-port", "6080"],
    ["-e", "-t", "192.0.2.1:80", "-r", "198.51.100.1:8080", "-m", "-w", "0"],
    ["-A", "-u", "[2001:db8::1]:53", "-s", "rr", "-o"],
    ["-A", "-f", "7", "-6", "-s", "mh"],
    ["-d", "-t", "192.0.2.1:80", "-r", "198.51.100.2"],
    ["-Z", "-t", "192.0.2.1:80"],
    ["-Z"],
    ["--set", "100", "20", "30"],
    ["-D", "-t", "192.0.2.1:80"],
    ["-C"],
  ]);
  expect(ops.length).toBe(12);
  for (const op of ops) expect(checkOp(op)).toEqual(op as DirectorOp);
});

test("malformed ops say which field is wrong", () => {
  const svc = {
    kind: "addr",
    af: "inet",
    protocol: "tcp",
    addr: { af: "inet", text: "192.0.2.1", words: [1] },
    port: 80,
  };
  expect(checkOp({ op: "add-service" })).toBe("bad op: service: expected an object");
  expect(checkOp(null)).toBe("bad op: op: expected an object");
  expect(checkOp({ op: "nope" })).toBe('bad op: op.op: unknown operation "nope"');
  expect(checkOp({ op: "delete-service", service: { ...svc, port: "80" } })).toBe(
    "bad op: service.port: expected an integer 0..65535",
  );
  expect(checkOp({ op: "delete-service", service: { ...svc, addr: { text: "300.1.1.1" } } })).toBe(
    "bad op: service.addr.text: expected an IPv4 or IPv6 address",
  );
  expect(checkOp({ op: "set-timeouts", tcp: 1.5, tcpfin: 0, udp: 0 })).toBe(
    "bad op: op.tcp: expected an integer 0..4294967295",
  );
  // The address is rebuilt from its text: words that disagree with it are not trusted.
  const ok = checkOp({ op: "delete-service", service: svc }) as unknown as {
    service: { addr: { words: number[] } };
  };
  expect(ok.service.addr.words).toEqual([0xc0000201]);
});
