/**
 * `uvs demo`: until the daemon lands, the demo loads an ipvsadm save file (default
 * rules/demo.conf) into an empty table through `ipvsadm -R` and prints `ipvsadm -Ln`.
 */
import { readFileSync } from "node:fs";
import demoRules from "../../rules/demo.conf" with { type: "text" };
import { createMemoryBackend } from "../director/offline-backend.ts";
import { emptySnapshot } from "../model/snapshot.ts";
import { runIpvsadm } from "./ipvsadm/run.ts";

export async function runDemo(args: string[]): Promise<number> {
  // The default rules are embedded, so the compiled binary needs no file beside it.
  const path = args[0] ?? "rules/demo.conf (embedded)";
  let rules = demoRules;
  if (args[0]) {
    try {
      rules = readFileSync(args[0], "utf8");
    } catch (e) {
      process.stderr.write(`uvs demo: cannot read ${args[0]}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  const backend = createMemoryBackend(emptySnapshot());
  const io = { argv0: "ipvsadm", readStdin: async () => rules, openBackend: async () => backend };
  const restored = await runIpvsadm(["-R"], io);
  process.stderr.write(restored.stderr);
  if (restored.code !== 0) return restored.code;
  process.stdout.write(`# ${path} restored with ipvsadm -R; the table as ipvsadm -Ln lists it:\n`);
  const listed = await runIpvsadm(["-Ln"], io);
  process.stdout.write(listed.stdout);
  process.stderr.write(listed.stderr);
  return listed.code;
}
