/** PING_CHECK: one ICMP echo through the system's ping (raw sockets need privileges uvs avoids). */
import type { CheckContext } from "./checker.ts";
import { runCommand } from "./command.ts";
import { Attempt, type CheckResult } from "./result.ts";

export async function pingCheck({ spec, signal }: CheckContext): Promise<CheckResult> {
  const a = new Attempt(`PING ${spec.host}`);
  const secs = Math.max(1, Math.ceil(spec.timing.connectTimeout / 1000));
  const o = await runCommand(
    `ping -n -q -c 1 -W ${secs} ${spec.host}`,
    spec.timing.connectTimeout + 1000,
    signal,
  );
  if (o.kind === "exit")
    return o.code === 0 ? a.done(true, "echo reply") : a.fail(`no echo reply (ping exit ${o.code})`);
  return a.fail(o.kind === "error" ? `cannot run ping: ${o.reason}` : "no echo reply");
}
