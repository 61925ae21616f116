/** SMTP_CHECK: read a 220 banner, send HELO, expect 250, send QUIT (§1.8). */
import type { CheckContext } from "./checker.ts";
import { type Conversation, converse } from "./conversation.ts";
import { Attempt, type CheckResult, hostPort } from "./result.ts";

/** Read one SMTP reply (multi-line replies end with "NNN " + text). */
export async function smtpReply(
  c: Conversation,
  timeoutMs: number,
): Promise<{ code: number; text: string } | string> {
  const raw = await c.readUntil(
    (all) => /(^|\n)\d{3}( [^\n]*)?\r?\n/.test(all.toString("latin1")),
    timeoutMs,
  );
  if (typeof raw === "string") return raw;
  const text = raw.toString("latin1").trim();
  if (!text) return "connection closed without a reply";
  const m = /(?:^|\n)(\d{3})(?: [^\n]*)?$/.exec(text);
  if (!m) return `garbage reply ${JSON.stringify(text.slice(0, 40))}`;
  return { code: Number(m[1]), text: text.split("\n").pop() ?? text };
}

export function smtpCheck({ spec }: CheckContext): Promise<CheckResult> {
  const a = new Attempt(`SMTP ${hostPort(spec.host, spec.port)}`);
  const t = spec.timing.connectTimeout;
  const o = { host: spec.host, port: spec.port, timeoutMs: t, bindto: spec.bindto };
  return converse(
    o,
    async (c) => {
      const banner = await smtpReply(c, t);
      if (typeof banner === "string") return a.fail(`banner: ${banner}`);
      if (banner.code !== 220) return a.fail(`banner ${JSON.stringify(banner.text)}, expected 220`);
      c.write(`HELO ${spec.smtp?.helo ?? "smtpchecker.keepalived.org"}\r\n`);
      const helo = await smtpReply(c, t);
      if (typeof helo === "string") return a.fail(`HELO: ${helo}`);
      if (helo.code !== 250) return a.fail(`HELO answered ${JSON.stringify(helo.text)}, expected 250`);
      c.write("QUIT\r\n");
      return a.done(true, "220 banner, 250 to HELO");
    },
    (why) => a.fail(why),
  );
}
