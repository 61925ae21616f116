/**
 * C number parsing as ipvsadm uses it: strtol/strtoul with base 10 and atoi. Kept separate so
 * the odd corners (leading blanks, signs, wrap-around of negative strtoul values) live in one place.
 */

const C_NUMBER = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/;
const U64 = 1n << 64n;

/** ipvsadm's string_to_number(): whole string must be a base-10 long in [min, max]; else -1. */
export function stringToNumber(s: string, min: number, max: number): number {
  const m = C_NUMBER.exec(s);
  if (!m) return -1;
  const v = BigInt(m[1] === "-" ? `-${m[2]}` : m[2]);
  return v >= BigInt(min) && v <= BigInt(max) ? Number(v) : -1;
}

/** strtoul(s, &end, 10) requiring full consumption; negative input wraps modulo 2^64 as in C. */
export function strtoulFull(s: string): bigint | null {
  const m = C_NUMBER.exec(s);
  if (!m) return null;
  const mag = BigInt(m[2]);
  if (mag >= U64) return null; // ERANGE
  return m[1] === "-" ? (U64 - mag) % U64 : mag;
}

/** atoi(): (int) strtol(s, NULL, 10) — a digit prefix, clamped to long, then cut to 32 bits. */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(s);
  if (!m || m[2] === "") return 0;
  let v = BigInt(m[1] === "-" ? `-${m[2]}` : m[2]);
  const lmax = (1n << 63n) - 1n;
  if (v > lmax) v = lmax;
  if (v < -lmax - 1n) v = -lmax - 1n;
  return Number(BigInt.asIntN(32, v));
}
