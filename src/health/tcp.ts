/** TCP_CHECK: success is a TCP connect within connect_timeout; the socket is then closed. */
import type { CheckContext } from "./checker.ts";
import { Conversation } from "./conversation.ts";
import { Attempt, type CheckResult, hostPort } from "./result.ts";

export async function tcpCheck({ spec }: CheckContext): Promise<CheckResult> {
  const a = new Attempt(`TCP connect ${hostPort(spec.host, spec.port)}`);
  const c = await Conversation.open({
    host: spec.host,
    port: spec.port,
    timeoutMs: spec.timing.connectTimeout,
    bindto: spec.bindto,
  });
  if (typeof c === "string") return a.fail(c);
  c.close();
  return a.done(true);
}
