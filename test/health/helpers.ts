/** Small real servers on 127.0.0.1 (ephemeral ports) and check specs for the checker tests. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CheckSpec, Timing } from "../../src/rules/health-settings.ts";

export const TIMING: Timing = {
  delayLoop: 1000,
  connectTimeout: 500,
  retry: 1,
  delayBeforeRetry: 100,
  warmup: 0,
  alpha: false,
};

export function spec(type: string, port: number, extra: Partial<CheckSpec> = {}): CheckSpec {
  return {
    type,
    pos: { file: "test.conf", line: 1, col: 1 },
    timing: { ...TIMING, ...(extra.timing ?? {}) },
    host: "127.0.0.1",
    port,
    bindto: null,
    ...extra,
  };
}

/** A self-signed certificate made with openssl for this test run. */
export function selfSigned(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "uvs-cert-"));
  try {
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"].concat([
        "-keyout",
        join(dir, "k.pem"),
        "-out",
        join(dir, "c.pem"),
      ]),
      { stdio: "ignore" },
    );
    return { cert: readFileSync(join(dir, "c.pem"), "utf8"), key: readFileSync(join(dir, "k.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A TCP server that says `greet` on connect and answers each line with `reply(line)`. */
export function lineServer(greet: string | null, reply: (line: string) => string | null = () => null) {
  return Bun.listen<{ buf: string }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { buf: "" };
        if (greet !== null) s.write(greet);
      },
      data(s, d) {
        s.data.buf += new TextDecoder().decode(d);
        let i = s.data.buf.indexOf("\n");
        while (i >= 0) {
          const line = s.data.buf.slice(0, i).replace(/\r$/, "");
          s.data.buf = s.data.buf.slice(i + 1);
          const r = reply(line);
          if (r !== null) s.write(r);
          i = s.data.buf.indexOf("\n");
        }
      },
    },
  });
}

/** Accepts and never answers (a hung server). */
export const silentServer = () => lineServer(null);

/** A tiny UDP DNS responder: answers A queries with 192.0.2.7, `rcode` in every reply. */
export async function dnsServer(opts: { rcode?: number; wrongId?: boolean } = {}) {
  return Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(s, buf, port, addr) {
        const q = new Uint8Array(buf);
        let off = 12;
        while (q[off] !== 0) off += q[off] + 1;
        const question = q.subarray(12, off + 5);
        const answer = [0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7];
        const out = new Uint8Array(12 + question.length + answer.length);
        out.set(q.subarray(0, 2));
        if (opts.wrongId) out[0] ^= 0xff;
        out[2] = 0x81;
        out[3] = 0x80 | (opts.rcode ?? 0);
        out[5] = 1;
        out[7] = 1;
        out.set(question, 12);
        out.set(answer, 12 + question.length);
        s.send(out, port, addr);
      },
    },
  });
}

/** A port nobody listens on (TCP and UDP). */
export async function closedPort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = l.port;
  l.stop(true);
  return p;
}
