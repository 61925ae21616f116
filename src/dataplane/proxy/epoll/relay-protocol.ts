/**
 * What the main thread and a relay thread say to each other through their two rings
 * (relay-ring.ts): record kinds, their arguments, and the Worker's start message.
 */

/** main → relay: take flow [id, client fd, upstream fd]. */
export const CMD_ADOPT = 1;
/** main → relay: give flow [id] back (the director expired it, or the plane closes). */
export const CMD_RECALL = 2;

/** relay → main: bytes and reads [id, in bytes, in reads, out bytes, out reads] since the last. */
export const EV_ACCT = 1;
/** relay → main: flow [id, why, side, epoll bits] is the main thread's again; bytes: a send's rest. */
export const EV_BACK = 2;

// Why a flow comes back. `side` is the direction: UP (client → upstream) or DOWN.
/** A hangup or error was signalled on `side`'s source (nothing read): `bits` are the event's. */
export const BACK_EVENT = 1;
/** `side`'s source read 0: its FIN. */
export const BACK_EOF = 2;
/** A recv or send failed (a reset): the flow resets. */
export const BACK_RESET = 3;
/** A send on `side` took part of a read: the bytes are the rest, the destination is full. */
export const BACK_REST = 4;
/** `side` is a bulk stream (a turn of full reads): the main thread runs it from now on. */
export const BACK_BUSY = 5;
/** Answer to CMD_RECALL (or the relay could not watch the sockets). */
export const BACK_RECALL = 6;

export const UP = 0;
export const DOWN = 1;

/** Control words shared with a relay: [STOP] = 1 asks it to end, it sets [STOPPED] = 1. */
export const STOP = 0;
export const STOPPED = 1;

export interface RelayInit {
  /** main → relay commands, relay → main events (Ring buffers). */
  cmd: SharedArrayBuffer;
  evt: SharedArrayBuffer;
  control: SharedArrayBuffer;
  /** The relay's eventfd (the main thread signals a command) and the main thread's. */
  wake: number;
  mainWake: number;
}
