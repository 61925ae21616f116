/**
 * UDP_CHECK: send the payload (random if none). Without require_reply, no reply within
 * connect_timeout is a success; an ICMP unreachable fails. With require_reply the reply's length
 * must be within [min_reply_length, max_reply_length] and its bytes match the pattern (X = any
 * nibble).
 */
import type { UdpSpec } from "../rules/health-settings.ts";
import type { CheckContext } from "./checker.ts";
import { Attempt, type CheckResult, hostPort } from "./result.ts";
import { udpExchange } from "./udp-exchange.ts";

function matches(reply: Uint8Array, want: NonNullable<UdpSpec["requireReply"]>): boolean {
  if (reply.length < want.bytes.length) return false;
  return want.bytes.every((b, i) => (reply[i] & want.mask[i]) === b);
}

export async function udpCheck({ spec }: CheckContext): Promise<CheckResult> {
  const u = spec.udp ?? { payload: null, requireReply: null, minReply: 0, maxReply: 255 };
  const a = new Attempt(`UDP ${hostPort(spec.host, spec.port)}`);
  const payload = u.payload ?? crypto.getRandomValues(new Uint8Array(16));
  const out = await udpExchange({
    host: spec.host,
    port: spec.port,
    bindto: spec.bindto,
    payload,
    timeoutMs: spec.timing.connectTimeout,
  });
  if ("error" in out) return a.fail(out.error);
  if ("timeout" in out)
    return u.requireReply
      ? a.fail(`no reply within ${spec.timing.connectTimeout} ms`)
      : a.done(true, "no reply, no ICMP error");
  if (!u.requireReply) return a.done(true, `${out.reply.length}-byte reply`);
  const n = out.reply.length;
  if (n < u.minReply || n > u.maxReply)
    return a.fail(`reply of ${n} bytes, expected ${u.minReply}..${u.maxReply}`);
  if (!matches(out.reply, u.requireReply))
    return a.fail(`reply ${Buffer.from(out.reply).toString("hex")} does not match require_reply`);
  return a.done(true, `${n}-byte reply matches`);
}
