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
/** relay → main: flow [id, why, side, ends] is the main thread's again; bytes: a send's rest. */
export const EV_BACK = 2;
/** relay → main: flow [id, what] reached a director event (END_*); after CLOSED or RESET it is gone. */
export const EV_END = 3;

// What EV_END reports. The relay closed the sockets after CLOSED and RESET.
export const END_CLIENT_FIN = 1;
export const END_SERVER_FIN = 2;
export const END_CLOSED = 3;
export const END_RESET = 4;

// The ends word of EV_BACK: what the relay already did with the FINs.
export const ENDS_C_EOF = 1; // the client's FIN was read
export const ENDS_U_EOF = 2;
export const ENDS_FIN_TO_U = 4; // shutdown(SHUT_WR) on the upstream socket
export const ENDS_FIN_TO_C = 8;

// Why a flow comes back. `side` is the direction: UP (client → upstream) or DOWN.
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
