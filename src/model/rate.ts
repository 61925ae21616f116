import { type RateValues, type StatsValues, zeroRates } from "./stats.ts";

/** The kernel estimator runs every 2 seconds per service, per destination and for the total. */
export const EST_INTERVAL_MS = 2000;

const S64 = (v: bigint) => BigInt.asIntN(64, v);
const U64 = (v: bigint) => BigInt.asUintN(64, v);

/**
 * ip_vs_est.c's rate estimator: every 2 s, avg += (Δ·scale − avg) >> 2 in signed 64-bit, with
 * conns/packets kept ×1024 (Δ << 9 over 2 s) and bytes ×32 (Δ << 4). Read back rounded:
 * (x + 0x1FF) >> 10 and (x + 0xF) >> 5.
 */
export class RateEstimator {
  private last: StatsValues | null = null;
  private avg: RateValues = zeroRates();

  /** One 2-second sample from the cumulative counters. */
  sample(cur: StatsValues): void {
    const last = this.last ?? cur;
    const a = this.avg;
    a.cps = U64(a.cps + ((S64(U64(cur.conns - last.conns) << 9n) - S64(a.cps)) >> 2n));
    a.inpps = U64(a.inpps + ((S64(U64(cur.inpkts - last.inpkts) << 9n) - S64(a.inpps)) >> 2n));
    a.outpps = U64(a.outpps + ((S64(U64(cur.outpkts - last.outpkts) << 9n) - S64(a.outpps)) >> 2n));
    a.inbps = U64(a.inbps + ((S64(U64(cur.inbytes - last.inbytes) << 4n) - S64(a.inbps)) >> 2n));
    a.outbps = U64(a.outbps + ((S64(U64(cur.outbytes - last.outbytes) << 4n) - S64(a.outbps)) >> 2n));
    this.last = { ...cur };
  }

  /** The rates ipvsadm --rate shows (per second). */
  read(): RateValues {
    const a = this.avg;
    return {
      cps: U64(a.cps + 0x1ffn) >> 10n,
      inpps: U64(a.inpps + 0x1ffn) >> 10n,
      outpps: U64(a.outpps + 0x1ffn) >> 10n,
      inbps: U64(a.inbps + 0xfn) >> 5n,
      outbps: U64(a.outbps + 0xfn) >> 5n,
    };
  }

  /** Restore reported rates (from a snapshot) so that read() gives them back exactly. */
  load(r: RateValues, counters: StatsValues): void {
    this.avg = {
      cps: U64(r.cps << 10n),
      inpps: U64(r.inpps << 10n),
      outpps: U64(r.outpps << 10n),
      inbps: U64(r.inbps << 5n),
      outbps: U64(r.outbps << 5n),
    };
    this.last = { ...counters };
  }

  /** `ipvsadm -Z`: rates to 0 and the zero point moves to the current counters. */
  zero(counters: StatsValues): void {
    this.avg = zeroRates();
    this.last = { ...counters };
  }
}
