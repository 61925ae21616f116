/**
 * An HTTP/1.x response parser for one connection, reused for every response on it (no
 * per-response allocation). It works on raw bytes: it finds the end of the head, reads the
 * status and the few headers that matter (Content-Length, Transfer-Encoding, Connection,
 * Server and an optional header that names the real server), then follows the body as
 * Content-Length, chunked or close-delimited. Body bytes are counted as they arrive on the
 * wire after the head, as ab counts them ("HTML transferred").
 */

import { keepOutOfFtl } from "./jit.ts";

const S_HEAD = 0;
const S_BODY_LEN = 1;
const S_BODY_CLOSE = 2;
const S_CHUNK_SIZE = 3;
const S_CHUNK_EXT = 4;
const S_CHUNK_DATA = 5;
const S_CHUNK_CRLF = 6;
const S_TRAILER = 7;
const S_DONE = 8;

/** feed() results besides "complete at index i" (i >= 0). */
export const NEED_MORE = -1;
export const MALFORMED = -2;

const MAX_HEAD = 16384;
export const NAME_MAX = 64;

const enc = new TextEncoder();
const H_CONTENT_LENGTH = enc.encode("content-length");
const H_TRANSFER_ENCODING = enc.encode("transfer-encoding");
const H_CONNECTION = enc.encode("connection");
const H_SERVER = enc.encode("server");
const T_CHUNKED = enc.encode("chunked");
const T_CLOSE = enc.encode("close");
const T_KEEP_ALIVE = enc.encode("keep-alive");

/** Case-insensitive compare of b[p..p+w.length) with a lower-case ASCII word. */
function eqLower(b: Uint8Array, p: number, w: Uint8Array): boolean {
  for (let i = 0; i < w.length; i++) if ((b[p + i] | 0x20) !== w[i]) return false;
  return true;
}

/** Index of the next line feed in b[p..e), or -1. A plain loop: cheaper than indexOf on short lines. */
function lineEnd(b: Uint8Array, p: number, e: number): number {
  for (let i = p; i < e; i++) if (b[i] === 10) return i;
  return -1;
}

function colonAt(b: Uint8Array, p: number, e: number): number {
  for (let i = p; i < e; i++) if (b[i] === 58) return i;
  return -1;
}

/** Case-insensitive search for a lower-case word in b[p..e). */
function hasLower(b: Uint8Array, p: number, e: number, w: Uint8Array): boolean {
  for (let i = p; i + w.length <= e; i++) if (eqLower(b, i, w)) return true;
  return false;
}

export interface ParserConfig {
  head: boolean; // HEAD requests: no body whatever the headers say
  nameHeader: Uint8Array | null; // lower-case header name that names the real server
  nameFromBody: boolean; // the body's first line names the real server
}

export class ResponseParser {
  status = 0;
  keepAlive = false;
  bodyBytes = 0;
  /** The Server header of the first response that had one (ab's "Server Software"). */
  serverSoftware: string | null = null;
  /** The real server's name, if the response named it (nameLen > 0). */
  readonly name = new Uint8Array(NAME_MAX);
  nameLen = 0;

  private state = S_HEAD;
  private nl = 0; // in the head: 1 right after a line feed
  private readonly hbuf = new Uint8Array(MAX_HEAD);
  private hlen = 0;
  private remaining = 0;
  private lineStart = true; // in trailers
  private readonly cfg: ParserConfig;

  private readonly nameFirst: number; // first byte of the server-naming header, lower case

  constructor(cfg: ParserConfig) {
    this.cfg = cfg;
    this.nameFirst = cfg.nameHeader ? cfg.nameHeader[0] : -1;
  }

  reset(): void {
    this.state = S_HEAD;
    this.nl = 0;
    this.hlen = 0;
    this.status = 0;
    this.keepAlive = false;
    this.bodyBytes = 0;
    this.nameLen = 0;
  }

  /**
   * Go on with an answer whose head another reader parsed (the C fast path): status,
   * keep-alive, its Content-Length, and `left` of those body bytes still due (> 0).
   */
  resumeBody(status: number, keepAlive: boolean, length: number, left: number): void {
    this.reset();
    this.status = status;
    this.keepAlive = keepAlive;
    this.bodyBytes = length - left;
    this.state = S_BODY_LEN;
    this.remaining = left;
  }

  /** True once the head has been read: a close then ends a close-delimited body. */
  get closeDelimited(): boolean {
    return this.state === S_BODY_CLOSE;
  }

  /** Consume b[off..end). Returns the index just after a complete response, NEED_MORE or MALFORMED. */
  feed(b: Uint8Array, off: number, end: number): number {
    let i = off;
    if (this.state === S_HEAD) {
      i = this.feedHead(b, off, end);
      if (i < 0) return i;
    }
    const bodyStart = i;
    i = this.feedBody(b, i, end);
    this.bodyBytes += (i < 0 ? end : i) - bodyStart;
    return i;
  }

  private feedHead(b: Uint8Array, off: number, end: number): number {
    // Common case: the whole head is in this chunk; parse it in place, without a copy.
    if (this.hlen === 0) {
      const r = this.parseHead(b, off, end);
      if (r !== NEED_MORE) return r;
    }
    // The head is split over chunks: gather it, watching for the empty line byte by byte.
    let nl = this.nl;
    let i = off;
    let found = false;
    for (; i < end; i++) {
      const c = b[i];
      if (c === 10) {
        if (nl) {
          found = true;
          i++;
          break;
        }
        nl = 1;
      } else if (c !== 13) nl = 0;
    }
    this.nl = nl;
    if (!this.stash(b, off, i)) return MALFORMED;
    if (!found) return NEED_MORE;
    const r = this.parseHead(this.hbuf, 0, this.hlen);
    return r < 0 ? MALFORMED : i;
  }

  private stash(b: Uint8Array, off: number, end: number): boolean {
    if (this.hlen + end - off > MAX_HEAD) return false;
    this.hbuf.set(b.subarray(off, end), this.hlen);
    this.hlen += end - off;
    return true;
  }

  /**
   * Parse a head starting at s. Returns the index after its empty line, NEED_MORE if b[s..e)
   * holds no empty line yet, or MALFORMED. Lines are found with indexOf (memchr), not byte by byte.
   */
  private parseHead(b: Uint8Array, s: number, e: number): number {
    let le = lineEnd(b, s, e);
    if (le < 0) return NEED_MORE;
    // "HTTP/1.x NNN"
    if (le - s < 12 || b[s] !== 72 || b[s + 1] !== 84 || b[s + 2] !== 84 || b[s + 3] !== 80) return MALFORMED;
    if (b[s + 4] !== 47 || b[s + 5] !== 49 || b[s + 6] !== 46 || b[s + 8] !== 32) return MALFORMED;
    const d0 = b[s + 9] - 48;
    const d1 = b[s + 10] - 48;
    const d2 = b[s + 11] - 48;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return MALFORMED;
    this.status = d0 * 100 + d1 * 10 + d2;
    // The request is HTTP/1.0: the connection persists only when the server says keep-alive (an
    // HTTP/1.1 answer without it may still be closed, as Bun.serve does), which is ab's rule too.
    let ka = false;
    let length = -1;
    let chunked = false;
    let p = le + 1;
    while (true) {
      le = lineEnd(b, p, e);
      if (le < 0) return NEED_MORE;
      let ve = le;
      if (ve > p && b[ve - 1] === 13) ve--;
      if (ve === p) break; // the empty line
      const first = b[p] | 0x20;
      // Only names starting c, t or s matter (and the server-naming header): skip the rest.
      const colon =
        first === 99 || first === 116 || first === 115 || first === this.nameFirst ? colonAt(b, p, ve) : -1;
      if (colon >= 0) {
        let v = colon + 1;
        while (v < ve && (b[v] === 32 || b[v] === 9)) v++;
        while (ve > v && (b[ve - 1] === 32 || b[ve - 1] === 9)) ve--;
        const n = colon - p;
        if (n === 14 && eqLower(b, p, H_CONTENT_LENGTH)) {
          length = parseDigits(b, v, ve);
          if (length < 0) return MALFORMED;
        } else if (n === 17 && eqLower(b, p, H_TRANSFER_ENCODING)) {
          chunked = hasLower(b, v, ve, T_CHUNKED);
        } else if (n === 10 && eqLower(b, p, H_CONNECTION)) {
          if (hasLower(b, v, ve, T_CLOSE)) ka = false;
          else if (hasLower(b, v, ve, T_KEEP_ALIVE)) ka = true;
        } else if (n === 6 && this.serverSoftware === null && eqLower(b, p, H_SERVER)) {
          this.serverSoftware = new TextDecoder().decode(b.subarray(v, ve));
        }
        const nh = this.cfg.nameHeader;
        if (nh !== null && n === nh.length && eqLower(b, p, nh)) this.keepName(b, v, ve);
      }
      p = le + 1;
    }
    this.startBody(ka, length, chunked);
    return le + 1;
  }

  private startBody(ka: boolean, length: number, chunked: boolean): void {
    const st = this.status;
    if (this.cfg.head || st < 200 || st === 204 || st === 304) {
      this.state = S_DONE;
      this.keepAlive = ka;
    } else if (chunked) {
      this.state = S_CHUNK_SIZE;
      this.remaining = 0;
      this.keepAlive = ka;
    } else if (length >= 0) {
      this.state = length === 0 ? S_DONE : S_BODY_LEN;
      this.remaining = length;
      this.keepAlive = ka;
    } else {
      this.state = S_BODY_CLOSE; // no framing: the body ends when the server closes
      this.keepAlive = false;
    }
  }

  private keepName(b: Uint8Array, p: number, e: number): void {
    const n = Math.min(e - p, NAME_MAX);
    for (let i = 0; i < n; i++) this.name[i] = b[p + i];
    this.nameLen = n;
  }

  /** Body name: the first line of the body, up to NAME_MAX bytes, from the first data seen. */
  private bodyName(b: Uint8Array, p: number, e: number): void {
    if (this.nameLen > 0 || !this.cfg.nameFromBody) return;
    let q = p;
    const lim = Math.min(e, p + NAME_MAX);
    while (q < lim && b[q] !== 10 && b[q] !== 13) q++;
    if (q > p) this.keepName(b, p, q);
  }

  private feedBody(b: Uint8Array, i: number, end: number): number {
    while (true) {
      switch (this.state) {
        case S_DONE:
          return i;
        case S_BODY_LEN: {
          const n = Math.min(this.remaining, end - i);
          if (n > 0) this.bodyName(b, i, i + n);
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.state = S_DONE;
          else return NEED_MORE;
          break;
        }
        case S_BODY_CLOSE:
          if (end > i) this.bodyName(b, i, end);
          return NEED_MORE;
        case S_CHUNK_DATA: {
          const n = Math.min(this.remaining, end - i);
          if (n > 0) this.bodyName(b, i, i + n);
          this.remaining -= n;
          i += n;
          if (this.remaining > 0) return NEED_MORE;
          this.state = S_CHUNK_CRLF;
          break;
        }
        default:
          if (i >= end) return NEED_MORE;
          if (!this.chunkByte(b[i++])) return MALFORMED;
      }
    }
  }

  /** One byte of chunk framing (size line, CRLF after data, trailers). */
  private chunkByte(c: number): boolean {
    switch (this.state) {
      case S_CHUNK_SIZE: {
        const h = hexValue(c);
        if (h >= 0) {
          if (this.remaining > 0x7ffffff) return false;
          this.remaining = this.remaining * 16 + h;
          return true;
        }
        if (c === 59 || c === 32 || c === 9) {
          this.state = S_CHUNK_EXT;
          return true;
        }
        if (c === 13) return true;
        if (c === 10) return this.endSizeLine();
        return false;
      }
      case S_CHUNK_EXT:
        return c === 10 ? this.endSizeLine() : true;
      case S_CHUNK_CRLF:
        if (c === 13) return true;
        if (c !== 10) return false;
        this.state = S_CHUNK_SIZE;
        this.remaining = 0;
        return true;
      default: // S_TRAILER
        if (c === 13) return true;
        if (c === 10) {
          if (this.lineStart) this.state = S_DONE;
          this.lineStart = true;
        } else this.lineStart = false;
        return true;
    }
  }

  private endSizeLine(): boolean {
    if (this.remaining === 0) {
      this.state = S_TRAILER;
      this.lineStart = true;
    } else this.state = S_CHUNK_DATA;
    return true;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

function parseDigits(b: Uint8Array, p: number, e: number): number {
  if (p >= e || e - p > 15) return -1;
  let v = 0;
  for (let i = p; i < e; i++) {
    const d = b[i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

keepOutOfFtl(ResponseParser);
