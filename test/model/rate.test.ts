import { describe, expect, test } from "bun:test";
import { RateEstimator } from "../../src/model/rate.ts";
import { zeroStats } from "../../src/model/stats.ts";

const stats = (conns: bigint, bytes: bigint) => ({ ...zeroStats(), conns, inpkts: conns, inbytes: bytes });

describe("rate estimator (ip_vs_est.c)", () => {
  test("a steady 100 conn/s and 1 MB/s converges to exactly that", () => {
    const e = new RateEstimator();
    e.zero(zeroStats());
    for (let i = 1; i <= 60; i++) e.sample(stats(200n * BigInt(i), 2_000_000n * BigInt(i)));
    const r = e.read();
    expect(r.cps).toBe(100n);
    expect(r.inpps).toBe(100n);
    expect(r.inbps).toBe(1_000_000n);
  });

  test("the first sample after 200 connections in 2 s shows a quarter of the rate", () => {
    const e = new RateEstimator();
    e.zero(zeroStats());
    e.sample(stats(200n, 0n));
    // avg = (200 << 9) >> 2 = 25600; read = (25600 + 511) >> 10 = 25
    expect(e.read().cps).toBe(25n);
  });

  test("load() gives the loaded rates back exactly, also near 2^64", () => {
    const e = new RateEstimator();
    const r = { cps: 7n, inpps: 123456n, outpps: 0n, inbps: (1n << 58n) + 5n, outbps: 1n };
    e.load(r, zeroStats());
    expect(e.read()).toEqual(r);
  });

  test("rates decay to 0 once traffic stops", () => {
    const e = new RateEstimator();
    e.zero(zeroStats());
    e.sample(stats(1000n, 1000n));
    for (let i = 0; i < 200; i++) e.sample(stats(1000n, 1000n));
    expect(e.read()).toEqual({ cps: 0n, inpps: 0n, outpps: 0n, inbps: 0n, outbps: 0n });
  });
});
