/**
 * Backpressure through the proxy: Bun's write() takes only what the kernel accepts, so a proxy
 * that ignores its return value loses data and one that queues without pausing grows without
 * bound. Here a backend pushes 64 MiB at a client that reads slowly (and the other way round): every
 * byte must arrive in order, and the proxy's queues must stay small.
 */
import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { backend, Client, Lab, waitFor } from "./helpers.ts";

const MiB = 1024 * 1024;

/** A block whose size is not a power of two, so repeated sends do not line up with chunk sizes. */
function block(): Uint8Array {
  const b = new Uint8Array(MiB + 7);
  let x = 0x12345678;
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Write `total` bytes of `src` repeated, honouring write()'s return value; hashes what was sent. */
function streamer(total: number, sent: Bun.CryptoHasher) {
  const src = block();
  let done = 0;
  let off = 0;
  return function pump(s: Socket<unknown>): void {
    while (done < total) {
      const len = Math.min(src.length - off, total - done);
      const n = s.write(src, off, len);
      if (n > 0) {
        sent.update(src.subarray(off, off + n));
        done += n;
        off = (off + n) % src.length;
      }
      if (n < len) return; // resume on drain
    }
    s.shutdown();
  };
}

describe("TCP proxy: backpressure", () => {
  test("64 MiB to a slow-reading client arrive intact while the proxy's queues stay small", async () => {
    const total = 64 * MiB;
    const sent = new Bun.CryptoHasher("sha256");
    const pump = streamer(total, sent);
    using big = backend("big", { open: pump, drain: pump });
    await using lab = await Lab.start({ backends: [{ port: big.port }] });
    const got = new Bun.CryptoHasher("sha256");
    let nextPause = 4 * MiB;
    using c = await Client.connect(lab.port, (cl, d) => {
      got.update(d);
      if (cl.received >= nextPause) {
        nextPause += 4 * MiB;
        cl.sock.pause();
        setTimeout(() => cl.sock.resume(), 15);
      }
    });
    // What the proxy holds is sampled directly: RSS is too noisy here (GC, other test files), and
    // an unpaused source shows up as tens of MiB queued.
    let maxQueued = 0;
    const sampler = setInterval(() => {
      maxQueued = Math.max(maxQueued, lab.plane.stats().bufferedBytes);
    }, 2);
    try {
      await waitFor(() => c.fin, 8000, "all 64 MiB");
    } finally {
      clearInterval(sampler);
    }
    expect(c.received).toBe(total);
    expect(got.digest("hex")).toBe(sent.digest("hex"));
    expect(maxQueued).toBeLessThanOrEqual(4 * MiB);
  });

  test("16 MiB from a client to a slow-reading backend arrive intact; the client is held back", async () => {
    const total = 16 * MiB;
    const got = new Bun.CryptoHasher("sha256");
    let received = 0;
    let nextPause = MiB;
    using slow = backend("slow", {
      data: (s, d) => {
        s.data.rx.length = 0; // keep nothing but the hash
        got.update(d);
        received += d.length;
        if (received >= nextPause) {
          nextPause += MiB;
          s.pause();
          setTimeout(() => s.resume(), 10);
        }
      },
    });
    await using lab = await Lab.start({ backends: [{ port: slow.port }] });
    const sent = new Bun.CryptoHasher("sha256");
    const pump = streamer(total, sent);
    using c = await Client.connect(lab.port, undefined, (cl) => pump(cl.sock));
    let maxQueued = 0;
    const sampler = setInterval(() => {
      maxQueued = Math.max(maxQueued, lab.plane.stats().bufferedBytes);
    }, 2);
    try {
      pump(c.sock);
      await waitFor(() => slow.conns[0]?.data.fin === true, 8000, "all 16 MiB at the backend");
    } finally {
      clearInterval(sampler);
    }
    expect(received).toBe(total);
    expect(got.digest("hex")).toBe(sent.digest("hex"));
    expect(maxQueued).toBeLessThanOrEqual(4 * MiB);
  });
});
