/**
 * `uvs lab` as a user runs it: up prints the addresses and how to run uvs, status reads the lab
 * back from another process, down removes it, and bad arguments are refused with the usage.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { parseLabArgs } from "../../src/cli/lab.ts";
import { labDown } from "../../src/lab/build.ts";
import { listNamespaces, run } from "../../src/lab/netns.ts";
import { selfCommand } from "../../src/lab/self.ts";
import { rulesPath } from "../../src/lab/state.ts";
import { SKIP_LABS, skipWhy } from "./helpers.ts";

const PREFIX = "uvst-labcli";
const uvs = (...args: string[]) => run([...selfCommand(), ...args]);

afterAll(async () => {
  if (!SKIP_LABS) await labDown(PREFIX);
}, 30_000);

test.skipIf(SKIP_LABS)(
  skipWhy("uvs lab up|status|down dr: addresses, the uvs command line, the rules file, clean removal"),
  () => {
    const up = uvs("lab", "up", "dr", "--prefix", PREFIX);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(up.stdout).toStartWith(`dr lab "${PREFIX}", VIP 192.0.2.100:80 (DR)\n`);
    expect(up.stdout).toMatch(/ rs1 +uvst-labcli-rs1 +eth0 192\.0\.2\.11\/24, gw 192\.0\.2\.1 \(HTTP :80\)/);
    expect(up.stdout).toContain(
      `ip netns exec ${PREFIX}-director ${selfCommand().join(" ")} run --dataplane packet --interface eth0 --rules ${rulesPath(PREFIX)}`,
    );
    const rules = readFileSync(rulesPath(PREFIX), "utf8");
    expect(rules).toContain("virtual_server 192.0.2.100 80 {");
    expect(rules).toContain("lvs_method DR");
    expect(rules).toContain("real_server 192.0.2.12 80 {");
    expect(uvs("check", rulesPath(PREFIX)).code).toBe(0);

    const status = uvs("lab", "status", "dr", "--prefix", PREFIX);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/rs1 HTTP server pid \d+: running/);
    expect(status.stdout).toMatch(/rs2 HTTP server pid \d+: running/);

    const again = uvs("lab", "up", "dr", "--prefix", PREFIX);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("is already (partly) up");

    const down = uvs("lab", "down", "dr", "--prefix", PREFIX);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/removed .*; stopped 2 process\(es\)/);
    expect(listNamespaces().filter((n) => n.startsWith(`${PREFIX}-`))).toEqual([]);
    expect(existsSync(rulesPath(PREFIX))).toBe(false);
    expect(uvs("lab", "down", "dr", "--prefix", PREFIX).stdout).toBe(`lab ${PREFIX}: nothing to remove\n`);
    const gone = uvs("lab", "status", "dr", "--prefix", PREFIX);
    expect(gone.code).toBe(3);
    expect(gone.stdout).toBe(`lab ${PREFIX}: down\n`);
  },
  30_000,
);

test("uvs lab arguments: action, kind and prefix are checked", () => {
  expect(parseLabArgs(["up", "dr"])).toEqual({ action: "up", kind: "dr", prefix: "uvs-dr", http: true });
  expect(parseLabArgs(["down", "tun", "--prefix=x1", "--no-http"])).toEqual({
    action: "down",
    kind: "tun",
    prefix: "x1",
    http: false,
  });
  expect(parseLabArgs(["start", "dr"])).toStartWith('uvs lab: expected up, down or status, got "start"');
  expect(parseLabArgs(["up", "fullnat"])).toStartWith(
    'uvs lab: expected a lab kind nat, dr or tun, got "fullnat"',
  );
  expect(parseLabArgs(["up", "dr", "--prefix", "a/b"])).toStartWith('uvs lab: lab prefix "a/b"');
  expect(parseLabArgs(["up", "dr", "--prefix"])).toStartWith("uvs lab: --prefix needs a value");
  expect(parseLabArgs(["up", "dr", "-x"])).toStartWith('uvs lab: unknown option "-x"');
});
