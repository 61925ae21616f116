/**
 * One UDP request and its reply on a connected socket (so an ICMP port unreachable shows up as
 * "connection refused"). Never throws; the socket is closed on every path.
 */
import { reason } from "./result.ts";

export type UdpOutcome = { reply: Uint8Array } | { timeout: true } | { error: string };

export interface UdpRequest {
  host: string;
  port: number;
  bindto: string | null;
  payload: Uint8Array;
  timeoutMs: number;
  /** Replies this returns false for are ignored (a DNS reply with another ID). */
  accept?: (msg: Uint8Array) => boolean;
}

export async function udpExchange(r: UdpRequest): Promise<UdpOutcome> {
  let settle!: (o: UdpOutcome) => void;
  const done = new Promise<UdpOutcome>((resolve) => {
    settle = resolve;
  });
  let sock: Awaited<ReturnType<typeof Bun.udpSocket>> | null = null;
  const timer = setTimeout(() => settle({ timeout: true }), r.timeoutMs);
  try {
    sock = await Bun.udpSocket({
      hostname: r.bindto ?? (r.host.includes(":") ? "::" : "0.0.0.0"),
      connect: { hostname: r.host, port: r.port },
      socket: {
        data(_s, buf) {
          const msg = new Uint8Array(buf);
          if (!r.accept || r.accept(msg)) settle({ reply: msg });
        },
        // Bun passes the error first here (seen with an ICMP unreachable on a connected socket).
        error(...args: unknown[]) {
          const e = args.find((x) => x instanceof Error) ?? args[0];
          settle({ error: reason(e) });
        },
      },
    });
    sock.send(r.payload);
  } catch (e) {
    settle({ error: reason(e) });
  }
  const out = await done;
  clearTimeout(timer);
  sock?.close();
  return out;
}
