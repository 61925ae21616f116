import { describe, expect, test } from "bun:test";
import { startBench } from "../../src/bench/api.ts";

describe("uvs bench L4 modes", () => {
  test("tcp-connect: one new connection per request, payload delivered, replies awaited", async () => {
    let accepted = 0;
    let bytes = 0;
    const srv = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open() {
          accepted++;
        },
        data(s, b) {
          bytes += b.length;
          s.write("ok");
        },
      },
    });
    try {
      const r = await startBench({
        url: `http://127.0.0.1:${srv.port}/`,
        requests: 120,
        concurrency: 6,
        keepAlive: false,
        mode: "tcp-connect",
      }).result;
      expect([r.complete, r.failed, r.samples.count]).toEqual([120, 0, 120]);
      const p = await startBench({
        url: `http://127.0.0.1:${srv.port}/`,
        requests: 50,
        concurrency: 5,
        keepAlive: false,
        mode: "tcp-connect",
        payloadBytes: 10,
      }).result;
      expect([p.complete, p.failed, p.totalSent, p.totalRead]).toEqual([50, 0, 500, 100]);
      await Bun.sleep(50);
      expect(accepted).toBe(170);
      expect(bytes).toBe(500);
    } finally {
      srv.stop(true);
    }
  });

  test("udp: every datagram answered is a request; late and lost ones are counted", async () => {
    let got = 0;
    const echo = await Bun.udpSocket({
      hostname: "127.0.0.1",
      socket: {
        data(sock, b, port, addr) {
          got++;
          if (got % 10 !== 0) sock.send(b, port, addr); // drop every tenth
        },
      },
    });
    try {
      const r = await startBench({
        url: `http://127.0.0.1:${echo.port}/`,
        requests: 100,
        concurrency: 4,
        keepAlive: false,
        mode: "udp",
        timeoutS: 0.2,
      }).result;
      expect(r.complete).toBe(100);
      expect(got).toBe(100);
      expect([r.failed, r.errReceive, r.errorsByKind.lost]).toEqual([10, 10, 10]);
      expect(r.totalSent).toBe(100 * 64);
      expect(r.totalRead).toBe(90 * 64);
    } finally {
      echo.close();
    }
  });
});
