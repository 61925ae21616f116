/**
 * The epoll TCP engine as the proxy plane uses it: one epoll loop, and `listen` for endpoints.
 * Loaded on demand (require) so that a platform without it (no Linux, no libc.so.6) falls back
 * to Bun's sockets instead of failing to start.
 */
import type { ProxyContext } from "../context.ts";
import type { TcpEndpoint } from "../tcp-proxy.ts";
import { Deadlines } from "./deadlines.ts";
import { EpollLoop } from "./loop.ts";
import { type RelayPool, startRelays } from "./relay.ts";
import { EpollListener, type EpollTcp } from "./tcp.ts";

export class EpollEngine implements EpollTcp {
  readonly loop: EpollLoop;
  readonly connecting: Deadlines;
  readonly relays: RelayPool | null = null;

  constructor(readonly ctx: ProxyContext) {
    this.loop = new EpollLoop((message) => ctx.log({ type: "warning", message }));
    this.connecting = new Deadlines(ctx.connectTimeoutMs);
    if (ctx.relayThreads > 0) {
      const pool = startRelays(this.loop, ctx.relayThreads, (message) =>
        ctx.log({ type: "warning", message }),
      );
      if (typeof pool === "string")
        ctx.log({
          type: "warning",
          message: `the proxy's relay threads could not start (${pool}): one thread`,
        });
      else this.relays = pool;
    }
  }

  listen(ep: TcpEndpoint): EpollListener {
    return EpollListener.open(this, ep);
  }

  close(): void {
    this.relays?.close();
    this.connecting.close();
    this.loop.close();
  }
}
