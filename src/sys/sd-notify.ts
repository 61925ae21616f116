/**
 * sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET (a path, or "@name" for the
 * abstract namespace). Bun has no Unix datagram sockets, so this goes through libc with bun:ffi.
 * Without NOTIFY_SOCKET (not under systemd) every call is a no-op.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
const MSG_NOSIGNAL = 0x4000;

type Libc = {
  socket(domain: number, type: number, proto: number): number;
  sendto(fd: number, buf: number, len: number, flags: number, addr: number, alen: number): number;
  close(fd: number): number;
};

let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    const lib = dlopen("libc.so.6", {
      socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      sendto: {
        args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32],
        returns: FFIType.i32,
      },
      close: { args: [FFIType.i32], returns: FFIType.i32 },
    });
    libc = lib.symbols as unknown as Libc;
  } catch {
    libc = null;
  }
  return libc;
}

/** struct sockaddr_un for `path` ("@x" = abstract) and its length. */
function sockaddrUn(path: string): { buf: Uint8Array; len: number } {
  const name = new TextEncoder().encode(path);
  const buf = new Uint8Array(110);
  new DataView(buf.buffer).setUint16(0, AF_UNIX, true);
  buf.set(name.subarray(0, 107), 2);
  if (path.startsWith("@")) {
    buf[2] = 0;
    return { buf, len: 2 + Math.min(name.length, 108) };
  }
  return { buf, len: 2 + Math.min(name.length, 107) + 1 };
}

/** Send `state` (e.g. "READY=1"); returns false when it could not be delivered. */
export function sdNotify(state: string, socketPath = process.env.NOTIFY_SOCKET): boolean {
  if (!socketPath) return false;
  const c = loadLibc();
  if (!c) return false;
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  try {
    const msg = new TextEncoder().encode(state);
    const addr = sockaddrUn(socketPath);
    return c.sendto(fd, ptr(msg), msg.length, MSG_NOSIGNAL, ptr(addr.buf), addr.len) === msg.length;
  } finally {
    c.close(fd);
  }
}

/** The watchdog interval systemd asked for (WATCHDOG_USEC for this pid), in ms; null when none. */
export function watchdogIntervalMs(env = process.env, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return usec / 1000;
}
