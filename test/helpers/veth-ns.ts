/**
 * A namespace of a test's own with veth pairs in it, for the raw-socket tests: built with the
 * lab's `ip` wrappers, and a Bun script run inside it (sockets belong to the namespace that
 * creates them).
 */
import { spawnSync } from "node:child_process";
import { addNamespace, deleteNamespace, ip } from "../../src/lab/netns.ts";

const ROOT = `${import.meta.dir}/../..`;

/** `pairs` of veth ends, all up; then `setup` runs `ip -n NS` commands. Removed again on failure. */
export function vethNamespace(ns: string, pairs: [string, string][], setup: string[][] = []): void {
  addNamespace(ns);
  try {
    for (const [a, b] of pairs) {
      ip(ns, ["link", "add", a, "type", "veth", "peer", "name", b], `veth ${a}/${b}`);
      for (const l of [a, b]) ip(ns, ["link", "set", l, "up"], `${l} up`);
    }
    for (const args of setup) ip(ns, args, args.join(" "));
  } catch (e) {
    deleteNamespace(ns);
    throw e;
  }
}

/** Run `script` with Bun inside `ns` from the repository root; its trimmed stdout. */
export function bunInNs(ns: string, script: string): string {
  const r = spawnSync("ip", ["netns", "exec", ns, process.execPath, "-e", script], {
    encoding: "utf8",
    cwd: ROOT,
    timeout: 20_000,
  });
  if (r.status !== 0) throw new Error(r.stderr || `exit ${r.status}`);
  return r.stdout.trim();
}
