/**
 * The worker's receive ring (RxRing, PACKET_RX_RING TPACKET_V2 in src/sys/libc.ts) against a real
 * veth pair in a namespace of the test's own: frames arrive in order with their length, packet
 * type and checksum status; slots are handed back and reused (more frames than the ring holds);
 * a frame can be sent on straight from its slot (setIov), as the worker forwards.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { deleteNamespace, labUnavailable } from "../../src/lab/netns.ts";
import { bunInNs, vethNamespace } from "../helpers/veth-ns.ts";

const NS = `uvst-eng3-ring-${process.pid}`;
const skip = !!labUnavailable();
const why = "needs root and iproute2: AF_PACKET, ip netns";

beforeAll(() => {
  if (skip) return;
  vethNamespace(
    NS,
    [
      ["va", "vb"],
      ["vc", "vd"],
    ],
    [
      ["addr", "add", "192.0.2.1/24", "dev", "va"],
      ["neigh", "add", "192.0.2.3", "lladdr", "02:00:00:00:00:09", "dev", "va"],
    ],
  );
});
afterAll(() => {
  if (!skip) deleteNamespace(NS);
});

test.skipIf(skip)(
  `RxRing: 3 × the ring's frames arrive in order, slots reused after release (${why})`,
  () => {
    const out = bunInNs(
      NS,
      `
    const { PacketSocket, Poller, RxRing } = await import("./src/sys/libc.ts");
    const a = PacketSocket.open("va"), b = PacketSocket.open("vb");
    const ring = RxRing.attach(b, { frames: 64, frameSize: 2048 });
    const f = new Uint8Array(60); f.fill(0xff, 0, 6); f.set([2,0,0,0,0,1], 6); f[12] = 0x88; f[13] = 0xb5;
    const p = new Poller([b.fd]);
    const seen = []; let bad = 0;
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 16; i++) { a.tx.slots[i].set(f); a.tx.slots[i][14] = round; a.tx.slots[i][15] = i; }
      a.send(16, new Array(16).fill(60));
      for (let k = 0; k < 20; k++) {
        p.wait(50);
        let got = 0;
        for (let i = ring.next(); i >= 0; i = ring.next()) {
          const fr = ring.frame(i);
          if (fr[12] !== 0x88) continue;
          if (ring.len(i) !== 60 || ring.pkttype(i) !== 1 || ring.truncated(i)) bad++;
          seen.push(fr[14] * 16 + fr[15]); got++;
        }
        ring.release();
        if (seen.length >= (round + 1) * 16) break;
      }
    }
    console.log(JSON.stringify({ count: ring.count, seen, bad }));
    ring.close(); a.close(); b.close();
  `,
    );
    const r = JSON.parse(out);
    expect(r.count).toBe(64);
    expect(r.bad).toBe(0);
    expect(r.seen).toEqual([...Array(192).keys()]);
  },
);

test.skipIf(skip)(
  `RxRing: checksum status of a kernel UDP datagram; a frame sent on from its slot (${why})`,
  () => {
    const out = bunInNs(
      NS,
      `
    const { PacketSocket, Poller, RxRing, TP_STATUS_CSUMNOTREADY, TP_STATUS_CSUM_VALID } = await import("./src/sys/libc.ts");
    const b = PacketSocket.open("vb"), c = PacketSocket.open("vc"), d = PacketSocket.open("vd");
    const ring = RxRing.attach(b, { frames: 64 });
    const s = await Bun.udpSocket({});
    s.send("hello", 9, "192.0.2.3");
    const p = new Poller([b.fd]);
    let st = -1, sentOn = 0;
    for (let k = 0; k < 20 && st < 0; k++) {
      p.wait(100);
      for (let i = ring.next(); i >= 0; i = ring.next()) {
        const fr = ring.frame(i);
        if (fr[12] === 8 && fr[13] === 0 && fr[23] === 17 && st < 0) {
          st = ring.statusOf(i);
          c.tx.setIov(0, ring.addr(i), ring.len(i));
          sentOn = c.send(1, [ring.len(i)]);
        }
      }
      ring.release();
    }
    const q = new Poller([d.fd]);
    let arrived = "";
    for (let k = 0; k < 20 && !arrived; k++) {
      q.wait(50);
      const n = d.recv();
      for (let i = 0; i < n; i++) { const fr = d.rx.slots[i]; if (fr[23] === 17) arrived = new TextDecoder().decode(fr.subarray(42, 47)); }
    }
    console.log(JSON.stringify({ partial: (st & TP_STATUS_CSUMNOTREADY) !== 0, valid: (st & TP_STATUS_CSUM_VALID) !== 0, st, sentOn, arrived }));
    s.close(); ring.close(); b.close(); c.close(); d.close();
  `,
    );
    const r = JSON.parse(out);
    expect(r.st).toBeGreaterThan(0); // TP_STATUS_USER at least
    expect(r.partial || r.valid).toBe(true); // veth: CHECKSUM_PARTIAL from the local stack
    expect(r.sentOn).toBe(1);
    expect(r.arrived).toBe("hello");
  },
);
