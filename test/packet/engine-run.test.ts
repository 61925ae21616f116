/**
 * `uvs run --dataplane packet` before the worker starts: a missing --interface, an interface that
 * does not exist, and the director's kernel forwarding (warned, or switched off by --auto-sysctl).
 * The last two run in a namespace of their own with a veth pair inside it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary } from "../../scripts/build.ts";
import { WORKER_FROM_SRC, workerUrl } from "../../src/dataplane/packet/engine/plane.ts";
import { addNamespace, deleteNamespace, inNs, labUnavailable, nsSysctl, run } from "../../src/lab/netns.ts";
import { selfCommand } from "../../src/lab/self.ts";

const NS = "uvst-eng2r";
/** Set while the compiled-binary test runs: the command to start instead of bun + src/main.ts. */
let binary: string[] | undefined;
const SKIP = labUnavailable();
const why = (name: string) => (SKIP ? `${name} (skipped: ${SKIP})` : name);
const dir = mkdtempSync(join(tmpdir(), "uvs-eng2r-"));
const rules = join(dir, "uvs.conf");
writeFileSync(
  rules,
  `virtual_server 192.0.2.100 80 {
    lvs_sched rr
    lvs_method DR
    protocol TCP
    real_server 192.0.2.11 80 {
        weight 1
    }
}
`,
);

beforeAll(() => {
  if (SKIP) return;
  deleteNamespace(NS);
  addNamespace(NS);
  for (const args of [
    ["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
    ["link", "set", "v0", "up"],
    // The real server's link: without it the DR real server would be refused as unreachable.
    ["addr", "add", "192.0.2.1/24", "dev", "v0"],
    ["link", "set", "v1", "up"],
  ])
    expect(run(["ip", "-n", NS, ...args]).code).toBe(0);
});

afterAll(() => {
  if (!SKIP) deleteNamespace(NS);
  rmSync(dir, { recursive: true, force: true });
});

const runArgs = (...extra: string[]) => [
  ...(binary ?? selfCommand()),
  "run",
  "--dataplane",
  "packet",
  "--rules",
  rules,
  "--no-watch",
  ...extra,
];

test("--dataplane packet without --interface: usage error, exit 2", () => {
  const r = run(runArgs("--control", join(dir, "a.sock")));
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("--dataplane packet needs at least one --interface IF");
});

test.skipIf(!!SKIP)(why("an interface that does not exist: named in the error, exit 1"), () => {
  const r = run(inNs(NS, runArgs("--interface", "nosuch0", "--control", join(dir, "b.sock"))));
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("--interface nosuch0: no such network interface in this network namespace");
  expect(existsSync(join(dir, "b.sock"))).toBe(false);
});

/** Start the daemon in the namespace, wait for its control socket, stop it; its stderr. */
async function startStop(sock: string, ...extra: string[]): Promise<string> {
  const p = Bun.spawn(inNs(NS, runArgs("--interface", "v0", "--control", sock, ...extra)), {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const deadline = Date.now() + 10_000;
    while (!existsSync(sock) && p.exitCode === null && Date.now() < deadline) await Bun.sleep(50);
    expect(existsSync(sock)).toBe(true);
  } finally {
    p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), 5000);
    await p.exited;
    clearTimeout(t);
  }
  return new Response(p.stderr).text();
}

test.skipIf(!!SKIP)(
  why("ip_forward=1 is warned about and the plane starts; --auto-sysctl turns it off"),
  async () => {
    nsSysctl(NS, "net.ipv4.ip_forward", "1");
    const warned = await startStop(join(dir, "c.sock"));
    expect(warned).toContain("net.ipv4.ip_forward is 1");
    expect(run(inNs(NS, ["sysctl", "-n", "net.ipv4.ip_forward"])).stdout.trim()).toBe("1");

    const fixed = await startStop(join(dir, "d.sock"), "--auto-sysctl");
    expect(fixed).toContain("--auto-sysctl: set net.ipv4.ip_forward=0");
    expect(fixed).not.toContain("net.ipv4.ip_forward is 1");
    expect(run(inNs(NS, ["sysctl", "-n", "net.ipv4.ip_forward"])).stdout.trim()).toBe("0");
  },
  30_000,
);

test("the worker's URL: next to plane.ts under bun, below /$bunfs/root in a compiled binary", () => {
  const here = workerUrl();
  expect(here.endsWith("/src/dataplane/packet/engine/worker.ts")).toBe(true);
  expect(existsSync(new URL(here).pathname)).toBe(true);
  expect(workerUrl("file:///$bunfs/root/uvs")).toBe(`file:///$bunfs/root/${WORKER_FROM_SRC}`);
});

test.skipIf(!!SKIP)(
  why("the compiled binary starts the packet worker (an extra entry point) and serves the table"),
  async () => {
    const out = join(dir, "uvs");
    await buildBinary({ outfile: out });
    binary = [out];
    try {
      const sock = join(dir, "e.sock");
      const p = Bun.spawn(inNs(NS, runArgs("--interface", "v0", "--control", sock)), {
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        cwd: "/",
      });
      try {
        const deadline = Date.now() + 10_000;
        while (!existsSync(sock) && p.exitCode === null && Date.now() < deadline) await Bun.sleep(50);
        const listing = run([out, "ipvsadm", "-Ln"], { ...process.env, UVS_CONTROL: sock } as Record<
          string,
          string
        >);
        expect(listing.stdout).toContain("TCP  192.0.2.100:80 rr");
        expect(listing.stdout).toContain("-> 192.0.2.11:80");
      } finally {
        p.kill("SIGTERM");
        const t = setTimeout(() => p.kill("SIGKILL"), 5000);
        await p.exited;
        clearTimeout(t);
      }
      expect(await new Response(p.stderr).text()).not.toContain("error");
    } finally {
      binary = undefined;
      rmSync(join(dir, "uvs"), { force: true });
    }
  },
  60_000,
);
