/**
 * Who is at the other end of a Unix socket: the peer's uid from SO_PEERCRED (Linux, through
 * libc). Null where that cannot be asked (another OS, no libc): the socket's file mode is then
 * the only guard.
 */
type PeerUid = (fd: number) => number;

let lookup: PeerUid | null | undefined;

function load(): PeerUid | null {
  if (process.platform !== "linux") return null;
  try {
    // On demand: libc.ts opens libc.so.6 when loaded.
    return (require("./libc.ts") as typeof import("./libc.ts")).sockSys.peerUid;
  } catch {
    return null;
  }
}

/** The peer's uid, or null when it cannot be known (the call failed, or no SO_PEERCRED here). */
export function peerUid(fd: number | undefined): number | null {
  if (lookup === undefined) lookup = load();
  if (lookup === null || fd === undefined || fd < 0) return null;
  const uid = lookup(fd);
  return uid < 0 ? null : uid;
}
