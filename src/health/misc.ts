/**
 * MISC_CHECK: run misc_path; exit 0 = up. With misc_dynamic: exit 1 = down, 0 = up with the weight
 * unchanged, 2..255 = up with weight exit−2. A script that outlives misc_timeout fails (its process
 * group gets SIGTERM, then SIGKILL 2 s later). `uvs health negotiate …` runs in-process.
 */
import type { CheckContext } from "./checker.ts";
import { runCommand, splitCommand } from "./command.ts";
import { negotiateFromArgs } from "./negotiate.ts";
import { Attempt, type CheckResult } from "./result.ts";

function dynamicResult(a: Attempt, code: number): CheckResult {
  if (code === 0) return a.done(true, "exit 0");
  if (code === 1) return a.fail("exit 1");
  return a.done(true, `exit ${code}: weight ${code - 2}`, { weight: code - 2 });
}

export async function miscCheck({ spec, signal }: CheckContext): Promise<CheckResult> {
  const m = spec.misc ?? { path: "", timeoutMs: spec.timing.delayLoop, dynamic: false };
  const argv = splitCommand(m.path);
  if (argv[0] === "uvs" && argv[1] === "health" && argv[2] === "negotiate") {
    const r = await negotiateFromArgs(argv.slice(3), m.timeoutMs);
    return r;
  }
  const a = new Attempt(`MISC ${JSON.stringify(m.path)}`);
  const o = await runCommand(m.path, m.timeoutMs, signal);
  switch (o.kind) {
    case "timeout":
      return a.fail(`no exit within misc_timeout ${m.timeoutMs / 1000} s: killed`);
    case "error":
      return a.fail(o.reason);
    case "signal":
      return a.fail(`killed by ${o.signal}`);
    case "exit":
      if (m.dynamic) return dynamicResult(a, o.code);
      return o.code === 0 ? a.done(true, "exit 0") : a.fail(`exit ${o.code}`);
  }
}
