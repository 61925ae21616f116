/** A client of the daemon's control socket (ipvsadm, `uvs snapshot`, `uvs reload`, the TUI). */
import type { Socket } from "bun";
import { LineBuffer } from "./lines.ts";
import type { ControlMethods, Method, Response } from "./protocol.ts";

const MAX_RESPONSE_BYTES = 1 << 30;

export class ControlError extends Error {
  override name = "ControlError";
}

export interface ControlClient {
  call<M extends Method>(
    method: M,
    params: ControlMethods[M]["params"],
  ): Promise<ControlMethods[M]["result"]>;
  close(): void;
}

/** Connect to the daemon at `path`; throws ControlError naming the socket when nobody answers. */
export async function connectControl(path: string): Promise<ControlClient> {
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const lines = new LineBuffer(MAX_RESPONSE_BYTES);
  let closed: Error | null = null;
  const failAll = (e: Error) => {
    closed = e;
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  let sock: Socket<undefined>;
  const pending: Uint8Array[] = [];
  const flush = () => {
    while (pending.length) {
      const n = sock.write(pending[0]);
      if (n < pending[0].length) {
        pending[0] = pending[0].subarray(n);
        return;
      }
      pending.shift();
    }
  };
  try {
    sock = await Bun.connect({
      unix: path,
      socket: {
        data(_s, chunk) {
          for (const line of lines.push(chunk) ?? []) {
            let res: Response;
            try {
              res = JSON.parse(line);
            } catch {
              continue;
            }
            const w = waiting.get(res.id);
            if (!w) continue;
            waiting.delete(res.id);
            if (res.ok) w.resolve(res.result);
            else w.reject(new ControlError(res.error));
          }
        },
        drain() {
          flush();
        },
        close() {
          failAll(new ControlError(`the uvs daemon at ${path} closed the connection`));
        },
        error(_s, e) {
          failAll(new ControlError(`control socket ${path}: ${e.message}`));
        },
      },
    });
  } catch (e) {
    throw new ControlError(`no uvs daemon answers on ${path}: ${(e as Error).message}`);
  }
  let nextId = 1;
  return {
    call(method, params) {
      if (closed) return Promise.reject(closed);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        pending.push(new TextEncoder().encode(`${JSON.stringify({ id, method, params })}\n`));
        flush();
      });
    },
    close() {
      sock.end();
    },
  };
}
