/**
 * The control socket: a Unix stream socket, mode 0600, in a directory only its owner can enter.
 * The file mode is what keeps other users out (connect(2) needs write permission on the socket);
 * root can always connect, as root can always talk to the kernel's IPVS.
 */
import { chmodSync, existsSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import type { Socket, UnixSocketListener } from "bun";
import { peerUid } from "../sys/peer-uid.ts";
import { LineBuffer } from "./lines.ts";
import { MAX_REQUEST_BYTES, type Method, type Request, type Response } from "./protocol.ts";

export type Handler = (req: Request) => Promise<unknown>;

interface ConnState {
  lines: LineBuffer;
  /** Responses not yet taken by the socket (write() takes what fits; the rest waits for drain). */
  pending: Uint8Array[];
  /** A peer of another uid: told so, and closed at its first request. */
  refused?: boolean;
}

export class ControlServerError extends Error {
  override name = "ControlServerError";
}

/** Is a daemon answering on `path`? (A stale socket file from a crash does not answer.) */
/** Whether a daemon answers on `path` (a stale socket file refuses the connection). */
export async function controlAnswers(path: string): Promise<boolean> {
  try {
    const s = await Bun.connect({ unix: path, socket: { data() {} } });
    s.end();
    return true;
  } catch {
    return false;
  }
}

function flush(s: Socket<ConnState>): void {
  const q = s.data.pending;
  while (q.length) {
    const n = s.write(q[0]);
    if (n < q[0].length) {
      q[0] = q[0].subarray(n);
      return;
    }
    q.shift();
  }
}

function send(s: Socket<ConnState>, res: Response): void {
  s.data.pending.push(new TextEncoder().encode(`${JSON.stringify(res)}\n`));
  flush(s);
}

async function serve(s: Socket<ConnState>, line: string, handler: Handler): Promise<void> {
  let req: Request;
  try {
    req = JSON.parse(line);
    if (
      typeof req !== "object" ||
      req === null ||
      typeof req.id !== "number" ||
      typeof req.method !== "string"
    )
      throw new Error("not a request");
  } catch {
    send(s, { id: -1, ok: false, error: 'malformed request: expected {"id":N,"method":"…","params":{…}}' });
    return;
  }
  try {
    const result = await handler(req);
    send(s, { id: req.id, ok: true, result } as Response<Method>);
  } catch (e) {
    send(s, { id: req.id, ok: false, error: (e as Error).message });
  }
}

/**
 * The socket is 0600, so only its owner (and root) can connect; SO_PEERCRED also refuses a peer
 * of another uid should the file's mode have been widened. Root stays welcome, as root can always
 * reach the kernel's IPVS (`sudo uvs -Ln` against a daemon run as its own user).
 */
function refuseOtherUsers(s: Socket<ConnState>): void {
  const uid = peerUid((s as unknown as { fd?: number }).fd);
  const own = process.getuid?.();
  if (uid === null || own === undefined || uid === own || uid === 0) return;
  s.data.refused = true;
  send(s, {
    id: -1,
    ok: false,
    error: `refused: this control socket serves uid ${own} only, not uid ${uid}`,
  });
  // Closed at its first request (a close now could fail the client's write before it reads the
  // answer), or after a second if it sends none.
  setTimeout(() => s.end(), 1000).unref();
}

/** The refusal of a second daemon on one control socket. */
export function anotherDaemon(path: string): ControlServerError {
  return new ControlServerError(`another uvs daemon is answering on ${path}`);
}

/** Listen on `path`; refuses to start when another daemon answers there. */
export async function startControlServer(
  path: string,
  handler: Handler,
): Promise<UnixSocketListener<ConnState>> {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (existsSync(path)) {
    if (await controlAnswers(path)) throw anotherDaemon(path);
    unlinkSync(path);
  }
  const umask = process.umask(0o077); // the socket is born 0600: no window where others may connect
  let listener: UnixSocketListener<ConnState>;
  try {
    listener = Bun.listen<ConnState>({
      unix: path,
      socket: {
        open(s) {
          s.data = { lines: new LineBuffer(MAX_REQUEST_BYTES), pending: [] };
          refuseOtherUsers(s);
        },
        data(s, chunk) {
          if (s.data.refused) {
            s.end();
            return;
          }
          const lines = s.data.lines.push(chunk);
          if (lines === null) {
            send(s, { id: -1, ok: false, error: `request longer than ${MAX_REQUEST_BYTES} bytes` });
            s.end();
            return;
          }
          for (const line of lines) if (line.trim()) void serve(s, line, handler);
        },
        drain(s) {
          flush(s);
        },
        error() {},
      },
    });
  } finally {
    process.umask(umask);
  }
  chmodSync(path, 0o600);
  return listener;
}
