/**
 * The kernel hash functions the IPVS schedulers use, in plain u32 arithmetic (no BigInt on the hot
 * path):
 * - hash_32 (include/linux/hash.h, kernels >= 4.7): (x * GOLDEN_RATIO_32) >> (32 - bits).
 * - hsiphash as built on 64-bit kernels (lib/siphash.c): SipHash-1-3 keyed with two u64 words,
 *   result truncated to u32. 64-bit lanes are held as (hi, lo) u32 pairs.
 */

export const GOLDEN_RATIO_32 = 0x61c88647;

/** hash_32(val, bits): multiplicative hash, top `bits` bits of the 32-bit product. */
export function hash32(val: number, bits: number): number {
  return Math.imul(val, GOLDEN_RATIO_32) >>> (32 - bits);
}

/** An hsiphash key: two u64 words (hsiphash_key_t is `unsigned long key[2]` on 64-bit). */
export interface HsipKey {
  readonly k0: bigint;
  readonly k1: bigint;
}

/** Precomputed SipHash state after the key has been mixed in (v0..v3 as hi/lo u32 pairs). */
export interface SipState {
  readonly s: Uint32Array;
}

const IV = [0x736f6d65, 0x70736575, 0x646f7261, 0x6e646f6d, 0x6c796765, 0x6e657261, 0x74656462, 0x79746573];

function hi32(v: bigint): number {
  return Number((v >> 32n) & 0xffffffffn);
}
function lo32(v: bigint): number {
  return Number(v & 0xffffffffn);
}

/** v0 = IV0 ^ k0, v1 = IV1 ^ k1, v2 = IV2 ^ k0, v3 = IV3 ^ k1 (the PREAMBLE of lib/siphash.c). */
export function sipInit(key: HsipKey): SipState {
  const k = [hi32(key.k0), lo32(key.k0), hi32(key.k1), lo32(key.k1)];
  const s = new Uint32Array(8);
  for (let i = 0; i < 4; i++) {
    const kw = i % 2 === 0 ? 0 : 2;
    s[2 * i] = IV[2 * i] ^ k[kw];
    s[2 * i + 1] = IV[2 * i + 1] ^ k[kw + 1];
  }
  return { s };
}

/** One SIPROUND over a state array [v0h, v0l, v1h, v1l, v2h, v2l, v3h, v3l]. */
export function sipRound(s: Uint32Array): void {
  let v0h = s[0];
  let v0l = s[1];
  let v1h = s[2];
  let v1l = s[3];
  let v2h = s[4];
  let v2l = s[5];
  let v3h = s[6];
  let v3l = s[7];
  let t: number;
  // v0 += v1; v1 = rol(v1, 13); v1 ^= v0; v0 = rol(v0, 32)
  t = (v0l + v1l) >>> 0;
  v0h = (v0h + v1h + (t < v0l ? 1 : 0)) >>> 0;
  v0l = t;
  t = ((v1h << 13) | (v1l >>> 19)) >>> 0;
  v1l = ((v1l << 13) | (v1h >>> 19)) >>> 0;
  v1h = t;
  v1h = (v1h ^ v0h) >>> 0;
  v1l = (v1l ^ v0l) >>> 0;
  t = v0h;
  v0h = v0l;
  v0l = t;
  // v2 += v3; v3 = rol(v3, 16); v3 ^= v2
  t = (v2l + v3l) >>> 0;
  v2h = (v2h + v3h + (t < v2l ? 1 : 0)) >>> 0;
  v2l = t;
  t = ((v3h << 16) | (v3l >>> 16)) >>> 0;
  v3l = ((v3l << 16) | (v3h >>> 16)) >>> 0;
  v3h = t;
  v3h = (v3h ^ v2h) >>> 0;
  v3l = (v3l ^ v2l) >>> 0;
  // v0 += v3; v3 = rol(v3, 21); v3 ^= v0
  t = (v0l + v3l) >>> 0;
  v0h = (v0h + v3h + (t < v0l ? 1 : 0)) >>> 0;
  v0l = t;
  t = ((v3h << 21) | (v3l >>> 11)) >>> 0;
  v3l = ((v3l << 21) | (v3h >>> 11)) >>> 0;
  v3h = t;
  v3h = (v3h ^ v0h) >>> 0;
  v3l = (v3l ^ v0l) >>> 0;
  // v2 += v1; v1 = rol(v1, 17); v1 ^= v2; v2 = rol(v2, 32)
  t = (v2l + v1l) >>> 0;
  v2h = (v2h + v1h + (t < v2l ? 1 : 0)) >>> 0;
  v2l = t;
  t = ((v1h << 17) | (v1l >>> 15)) >>> 0;
  v1l = ((v1l << 17) | (v1h >>> 15)) >>> 0;
  v1h = t;
  v1h = (v1h ^ v2h) >>> 0;
  v1l = (v1l ^ v2l) >>> 0;
  s[0] = v0h;
  s[1] = v0l;
  s[2] = v1h;
  s[3] = v1l;
  s[4] = v2l; // v2 = rol(v2, 32): halves swap
  s[5] = v2h;
  s[6] = v3h;
  s[7] = v3l;
}

/**
 * Generic SipHash-c-d over a byte message (the reference algorithm; used to validate the round
 * function against the published SipHash-2-4 vectors). Returns the 64-bit result as [hi, lo].
 */
export function sipHashBytes(
  key: HsipKey,
  msg: Uint8Array,
  cRounds: number,
  dRounds: number,
): [number, number] {
  const s = sipInit(key).s.slice();
  const full = msg.length - (msg.length % 8);
  const word = (off: number, n: number): [number, number] => {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const b = msg[off + i];
      if (i < 4) lo |= b << (8 * i);
      else hi |= b << (8 * (i - 4));
    }
    return [hi >>> 0, lo >>> 0];
  };
  const absorb = (mh: number, ml: number, rounds: number): void => {
    s[6] ^= mh;
    s[7] ^= ml;
    for (let r = 0; r < rounds; r++) sipRound(s);
    s[0] ^= mh;
    s[1] ^= ml;
  };
  for (let off = 0; off < full; off += 8) {
    const [mh, ml] = word(off, 8);
    absorb(mh, ml, cRounds);
  }
  const [th, tl] = word(full, msg.length - full);
  absorb((th | ((msg.length & 0xff) << 24)) >>> 0, tl, cRounds);
  s[5] ^= 0xff;
  for (let r = 0; r < dRounds; r++) sipRound(s);
  return [(s[0] ^ s[2] ^ s[4] ^ s[6]) >>> 0, (s[1] ^ s[3] ^ s[5] ^ s[7]) >>> 0];
}

/**
 * 64-bit-kernel hsiphash(&v, 4, key) for one u32 (stored little-endian): SipHash-1-3 with the
 * length byte 4 in the top of the final block; returns the low 32 bits. Fully inlined, no
 * allocation: the mh scheduler calls it on every lookup.
 */
export function hsiphashU32(state: SipState, v: number): number {
  const s = state.s;
  let v0h = s[0];
  let v0l = s[1];
  let v1h = s[2];
  let v1l = s[3];
  let v2h = s[4];
  let v2l = s[5];
  const bh = 0x04000000; // (u64)len << 56 with len = 4
  const bl = v >>> 0;
  let v3h = (s[6] ^ bh) >>> 0;
  let v3l = (s[7] ^ bl) >>> 0;
  let t: number;
  for (let r = 0; r < 4; r++) {
    t = (v0l + v1l) >>> 0;
    v0h = (v0h + v1h + (t < v0l ? 1 : 0)) >>> 0;
    v0l = t;
    t = ((v1h << 13) | (v1l >>> 19)) >>> 0;
    v1l = (((v1l << 13) | (v1h >>> 19)) ^ v0l) >>> 0;
    v1h = (t ^ v0h) >>> 0;
    t = v0h;
    v0h = v0l;
    v0l = t;
    t = (v2l + v3l) >>> 0;
    v2h = (v2h + v3h + (t < v2l ? 1 : 0)) >>> 0;
    v2l = t;
    t = ((v3h << 16) | (v3l >>> 16)) >>> 0;
    v3l = (((v3l << 16) | (v3h >>> 16)) ^ v2l) >>> 0;
    v3h = (t ^ v2h) >>> 0;
    t = (v0l + v3l) >>> 0;
    v0h = (v0h + v3h + (t < v0l ? 1 : 0)) >>> 0;
    v0l = t;
    t = ((v3h << 21) | (v3l >>> 11)) >>> 0;
    v3l = (((v3l << 21) | (v3h >>> 11)) ^ v0l) >>> 0;
    v3h = (t ^ v0h) >>> 0;
    t = (v2l + v1l) >>> 0;
    v2h = (v2h + v1h + (t < v2l ? 1 : 0)) >>> 0;
    v2l = t;
    t = ((v1h << 17) | (v1l >>> 15)) >>> 0;
    v1l = (((v1l << 17) | (v1h >>> 15)) ^ v2l) >>> 0;
    v1h = (t ^ v2h) >>> 0;
    t = v2h;
    v2h = v2l;
    v2l = t;
    if (r === 0) {
      // after the single compression round: v0 ^= b; v2 ^= 0xff
      v0h = (v0h ^ bh) >>> 0;
      v0l = (v0l ^ bl) >>> 0;
      v2l = (v2l ^ 0xff) >>> 0;
    }
  }
  return (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
}
