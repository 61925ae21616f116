/**
 * The gratuitous-ARP socket is send-only (`PacketSocket.openSendOnly`, protocol 0): its frames
 * reach the other end of a veth pair, and it receives nothing itself while traffic flows.
 */
import { afterAll, expect, test } from "bun:test";
import { labUnavailable, run } from "../../../src/lab/netns.ts";

const NS = `uvst-fog${process.pid % 100000}`;
const unavailable = labUnavailable();

afterAll(() => {
  if (!unavailable) run(["ip", "netns", "del", NS]);
});

test.skipIf(unavailable !== undefined)(
  `GARP frames go out of a send-only socket, which receives nothing (${unavailable ?? "root, ip netns"})`,
  async () => {
    // The sockets live in the test's namespace: a child process runs that side.
    const script = `
      import { encodeGarp } from ${JSON.stringify(`${import.meta.dir}/../../../src/ha/vrrp-frame.ts`)};
      import { parseIp } from ${JSON.stringify(`${import.meta.dir}/../../../src/model/addr.ts`)};
      import { PacketSocket } from ${JSON.stringify(`${import.meta.dir}/../../../src/sys/libc.ts`)};
      const rx = PacketSocket.open("b0", { batch: 8 });
      const tx = PacketSocket.openSendOnly("a0");
      const mac = Uint8Array.from([2, 0, 0, 0, 0, 0xa0]);
      const frame = encodeGarp(mac, parseIp("192.0.2.100"));
      let sent = 0;
      for (let i = 0; i < 5; i++) if (tx.sendOne(frame) === frame.length) sent++;
      await Bun.sleep(100);
      let got = 0;
      for (let n = rx.recv(); n > 0; n = rx.recv())
        for (let i = 0; i < n; i++) if (rx.len(i) === frame.length && rx.rx.slots[i][12] === 8 && rx.rx.slots[i][13] === 6) got++;
      // traffic the other way: a send-only socket must not see it
      const back = PacketSocket.openSendOnly("b0");
      for (let i = 0; i < 5; i++) back.sendOne(frame);
      await Bun.sleep(100);
      console.log(JSON.stringify({ sent, got, own: tx.recv() }));
    `;
    run(["ip", "netns", "add", NS]);
    for (const a of [
      ["link", "add", "a0", "type", "veth", "peer", "name", "b0"],
      ["link", "set", "a0", "up"],
      ["link", "set", "b0", "up"],
    ])
      expect(run(["ip", "-n", NS, ...a]).code).toBe(0);
    const file = `/tmp/${NS}-garp.ts`;
    await Bun.write(file, script);
    const r = run(["ip", "netns", "exec", NS, process.execPath, file]);
    run(["rm", "-f", file]);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout.trim())).toEqual({ sent: 5, got: 5, own: 0 });
  },
  20_000,
);
