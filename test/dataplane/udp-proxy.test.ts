import { describe, expect, test } from "bun:test";
import type { udp } from "bun";
import { SVC_F_ONEPACKET } from "../../src/model/service.ts";
import { freeUdpPort, Lab, LO, waitFor } from "./helpers.ts";

interface UdpBackend extends AsyncDisposable {
  port: number;
  /** Datagrams received, with where they came from. */
  got: { data: Buffer; port: number }[];
}

/** Answers each datagram with `<name>:<payload>` (or `<name>:<length>` when `raw`). */
async function udpBackend(name: string, raw = false): Promise<UdpBackend> {
  const got: { data: Buffer; port: number }[] = [];
  const s = await Bun.udpSocket({
    hostname: LO,
    port: 0,
    socket: {
      data(sock, data, port, addr) {
        got.push({ data, port });
        sock.send(raw ? `${name}:${data.length}` : `${name}:${data.toString()}`, port, addr);
      },
    },
  });
  return {
    port: s.port,
    got,
    async [Symbol.asyncDispose]() {
      s.close();
    },
  };
}

interface UdpClient extends AsyncDisposable {
  port: number;
  replies: string[];
  send(text: string): void;
}

async function udpClient(to: number): Promise<UdpClient> {
  const replies: string[] = [];
  const s: udp.Socket<"buffer"> = await Bun.udpSocket({
    hostname: LO,
    port: 0,
    socket: {
      data(_s, d) {
        replies.push(d.toString());
      },
    },
  });
  return {
    port: s.port,
    replies,
    send: (t) => s.send(t, to, LO),
    async [Symbol.asyncDispose]() {
      s.close();
    },
  };
}

describe("UDP proxy", () => {
  test("round trips: replies come back from the VIP; one flow per client; rr across clients", async () => {
    await using a = await udpBackend("A");
    await using b = await udpBackend("B");
    await using lab = await Lab.start({ protocol: "udp", backends: [{ port: a.port }, { port: b.port }] });
    await using c1 = await udpClient(lab.port);
    await using c2 = await udpClient(lab.port);
    c1.send("one");
    await waitFor(() => c1.replies.length === 1);
    c1.send("two");
    c2.send("three");
    await waitFor(() => c1.replies.length === 2 && c2.replies.length === 1);
    const n1 = c1.replies[0].split(":")[0];
    expect(c1.replies).toEqual([`${n1}:one`, `${n1}:two`]);
    expect(c2.replies[0]).toBe(`${n1 === "A" ? "B" : "A"}:three`);
    expect(lab.plane.stats().udpFlows).toBe(2);
    expect(lab.state(c1.port)).toBe("UDP");
    const s = lab.director.findService(lab.id)!.stats.read();
    expect([s.conns, s.inpkts, s.outpkts]).toEqual([2n, 3n, 3n]);
    expect(s.inbytes).toBe(BigInt("onetwothree".length));
  });

  test("-o (one-packet): the first datagram is scheduled and counted, its entry does not stay", async () => {
    await using a = await udpBackend("A");
    await using b = await udpBackend("B");
    await using lab = await Lab.start({
      protocol: "udp",
      backends: [{ port: a.port }, { port: b.port }],
      flags: SVC_F_ONEPACKET,
    });
    await using c1 = await udpClient(lab.port);
    await using c2 = await udpClient(lab.port);
    c1.send("one");
    c2.send("two");
    await waitFor(() => c1.replies.length === 1 && c2.replies.length === 1);
    expect(new Set([c1.replies[0][0], c2.replies[0][0]])).toEqual(new Set(["A", "B"]));
    expect(lab.director.conns.size).toBe(0);
    const s = lab.director.findService(lab.id)!.stats.read();
    expect([s.conns, s.inpkts]).toEqual([2n, 2n]);
  });

  test("a flow ends when its entry expires (udp timeout); the next datagram starts a new one", async () => {
    await using a = await udpBackend("A");
    await using lab = await Lab.start({ protocol: "udp", backends: [{ port: a.port }] });
    await using c = await udpClient(lab.port);
    c.send("x");
    await waitFor(() => c.replies.length === 1);
    const upstreamPort = a.got[0].port;
    lab.advance(299_000);
    expect(lab.plane.stats().udpFlows).toBe(1);
    c.send("y"); // traffic re-arms the timer
    await waitFor(() => c.replies.length === 2);
    lab.advance(299_000);
    expect(lab.state(c.port)).toBe("UDP");
    lab.advance(1_001);
    expect(lab.state(c.port)).toBeNull();
    expect(lab.plane.stats()).toMatchObject({ udpFlows: 0, expired: 1 });
    c.send("z");
    await waitFor(() => c.replies.length === 3);
    expect(lab.plane.stats()).toMatchObject({ udpFlows: 1, accepted: 2 });
    // The old upstream socket was closed: the new flow comes from another source port.
    expect(a.got[2].port).not.toBe(upstreamPort);
  });

  test("PROXY v2 over UDP: the header leads every datagram", async () => {
    await using a = await udpBackend("A", true);
    await using lab = await Lab.start({ protocol: "udp", backends: [{ port: a.port, pp: "v2" }] });
    await using c = await udpClient(lab.port);
    c.send("ping");
    c.send("pong");
    await waitFor(() => c.replies.length === 2);
    const p16 = (n: number) => n.toString(16).padStart(4, "0");
    const header = `0d0a0d0a000d0a515549540a2112000c7f0000017f000001${p16(c.port)}${p16(lab.port)}`;
    expect(a.got.map((g) => g.data.toString("hex"))).toEqual([
      header + Buffer.from("ping").toString("hex"),
      header + Buffer.from("pong").toString("hex"),
    ]);
    expect(c.replies).toEqual(["A:32", "A:32"]);
  });

  test("no destination: datagrams are dropped and counted", async () => {
    await using lab = await Lab.start({ protocol: "udp", backends: [] });
    await using c = await udpClient(lab.port);
    c.send("x");
    await waitFor(() => lab.plane.stats().noDestination === 1);
    expect(lab.plane.stats().udpFlows).toBe(0);
  });
});

describe("UDP proxy: errors", () => {
  test("a real server that refuses (ICMP port unreachable) is counted, not a crash", async () => {
    const dead = await freeUdpPort();
    await using lab = await Lab.start({ protocol: "udp", backends: [{ port: dead }] });
    await using c = await udpClient(lab.port);
    for (let i = 0; i < 3; i++) {
      c.send(`x${i}`);
      await Bun.sleep(20);
    }
    await waitFor(() => lab.plane.stats().udpErrors > 0, 3000, "an upstream error");
    expect(lab.plane.stats().udpFlows).toBe(1);
    expect(lab.dest(dead).stats.read().inpkts).toBe(3n);
  });
});
