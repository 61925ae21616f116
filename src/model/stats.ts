/**
 * Traffic counters as IPVS keeps them: 64-bit, cumulative. Live increments stay in plain numbers
 * (exact up to 2^53, fast on the hot path); a value loaded from a snapshot, which may use the whole
 * 64-bit range, is kept as a bigint base and added on read.
 */
export const STAT_FIELDS = ["conns", "inpkts", "outpkts", "inbytes", "outbytes"] as const;
export type StatField = (typeof STAT_FIELDS)[number];
export type StatsValues = Record<StatField, bigint>;

export const RATE_FIELDS = ["cps", "inpps", "outpps", "inbps", "outbps"] as const;
export type RateField = (typeof RATE_FIELDS)[number];
export type RateValues = Record<RateField, bigint>;

export function zeroStats(): StatsValues {
  return { conns: 0n, inpkts: 0n, outpkts: 0n, inbytes: 0n, outbytes: 0n };
}

export function zeroRates(): RateValues {
  return { cps: 0n, inpps: 0n, outpps: 0n, inbps: 0n, outbps: 0n };
}

const U64 = (1n << 64n) - 1n;

export class Counters {
  conns = 0;
  inpkts = 0;
  outpkts = 0;
  inbytes = 0;
  outbytes = 0;
  /** Values loaded from a snapshot (or carried over), added to the live numbers. */
  base: StatsValues = zeroStats();

  /** Current totals, wrapping at 2^64 as the kernel's u64 counters do. */
  read(): StatsValues {
    const b = this.base;
    return {
      conns: (b.conns + BigInt(this.conns)) & U64,
      inpkts: (b.inpkts + BigInt(this.inpkts)) & U64,
      outpkts: (b.outpkts + BigInt(this.outpkts)) & U64,
      inbytes: (b.inbytes + BigInt(this.inbytes)) & U64,
      outbytes: (b.outbytes + BigInt(this.outbytes)) & U64,
    };
  }

  load(v: StatsValues): void {
    this.base = { ...v };
    this.conns = this.inpkts = this.outpkts = this.inbytes = this.outbytes = 0;
  }

  zero(): void {
    this.load(zeroStats());
  }
}
