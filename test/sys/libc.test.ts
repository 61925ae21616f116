/** The FFI module against a real veth pair in a namespace of the test's own. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { deleteNamespace, labUnavailable } from "../../src/lab/netns.ts";
import { bunInNs, vethNamespace } from "../helpers/veth-ns.ts";

const NS = `uvst-libc-${process.pid}`;
const skip = !!labUnavailable();
const why = "needs root and iproute2: AF_PACKET, ip netns";

beforeAll(() => {
  if (skip) return;
  // A neighbour that is not there: the datagram leaves va without ARP and vb sees it (OTHERHOST).
  vethNamespace(
    NS,
    [["va", "vb"]],
    [
      ["addr", "add", "192.0.2.1/24", "dev", "va"],
      ["addr", "add", "192.0.2.2/24", "dev", "vb"],
      ["neigh", "add", "192.0.2.3", "lladdr", "02:00:00:00:00:09", "dev", "va"],
    ],
  );
});
afterAll(() => {
  if (!skip) deleteNamespace(NS);
});

test.skipIf(skip)(
  `AF_PACKET: batched send on one end arrives in order on the other, own frames not looped (${why})`,
  () => {
    const out = bunInNs(
      NS,
      `
    const { PacketSocket, Poller } = await import("./src/sys/libc.ts");
    const a = PacketSocket.open("va"), b = PacketSocket.open("vb");
    const f = new Uint8Array(60); f.fill(0xff, 0, 6); f.set([2,0,0,0,0,1], 6); f[12] = 0x88; f[13] = 0xb5;
    for (let i = 0; i < 10; i++) { a.tx.slots[i].set(f); a.tx.slots[i][14] = i; }
    const sent = a.send(10, new Array(10).fill(60));
    const p = new Poller([b.fd]);
    let got = [];
    for (let k = 0; k < 50 && got.length < 10; k++) {
      p.wait(100);
      const n = b.recv();
      for (let i = 0; i < n; i++) if (b.rx.slots[i][12] === 0x88) got.push(b.rx.slots[i][14] + ":" + b.len(i) + ":" + b.pkttype(i));
    }
    let own = 0; for (let n = a.recv(); n > 0; n = a.recv()) for (let i = 0; i < n; i++) if (a.rx.slots[i][12] === 0x88) own++;
    console.log(JSON.stringify({ sent, got, own }));
  `,
    );
    const r = JSON.parse(out);
    expect(r.sent).toBe(10);
    expect(r.got).toEqual([...Array(10).keys()].map((i) => `${i}:60:1`));
    expect(r.own).toBe(0);
  },
);

test.skipIf(skip)(`AF_PACKET: a kernel UDP datagram's checksum status comes with it (${why})`, () => {
  const out = bunInNs(
    NS,
    `
    const { PacketSocket, Poller, TP_STATUS_CSUMNOTREADY, TP_STATUS_CSUM_VALID } = await import("./src/sys/libc.ts");
    const b = PacketSocket.open("vb");
    const s = Bun.udpSocket ? await Bun.udpSocket({}) : null;
    s.send("hello", 9, "192.0.2.3");
    const p = new Poller([b.fd]);
    let st = -1;
    for (let k = 0; k < 20 && st < 0; k++) {
      p.wait(100);
      const n = b.recv();
      for (let i = 0; i < n; i++) { const f = b.rx.slots[i]; if (f[12] === 8 && f[13] === 0 && f[23] === 17) st = b.status(i); }
    }
    console.log(JSON.stringify({ st, notready: TP_STATUS_CSUMNOTREADY, valid: TP_STATUS_CSUM_VALID }));
    s.close();
  `,
  );
  const r = JSON.parse(out);
  // veth leaves the UDP checksum to "offload": the receiver is told it is partial or already valid.
  expect(r.st & (r.notready | r.valid)).not.toBe(0);
});

test.skipIf(skip)(`raw IP socket: opens for protocol 112 on a device and joins 224.0.0.18 (${why})`, () => {
  const out = bunInNs(
    NS,
    `
    const { RawIpSocket } = await import("./src/sys/libc.ts");
    const r = RawIpSocket.open(112, { ifname: "va" });
    r.join(0xe0000012);
    console.log(r.fd > 0 ? "ok" : "bad");
    r.close();
  `,
  );
  expect(out).toBe("ok");
});

test("a missing interface is a clear error, not a crash", async () => {
  const { ifIndex } = await import("../../src/sys/libc.ts");
  expect(() => ifIndex("uvs-no-such-if0")).toThrow('no such network interface "uvs-no-such-if0"');
});
