import { describe, expect, test } from "bun:test";
import {
  askName,
  type Backend,
  backend,
  backendText,
  Client,
  echoBackend,
  Lab,
  nameBackend,
  waitFor,
} from "./helpers.ts";

describe("TCP proxy: scheduling over real connections", () => {
  test("rr over two backends alternates", async () => {
    using a = nameBackend("A");
    using b = nameBackend("B");
    await using lab = await Lab.start({ backends: [{ port: a.port }, { port: b.port }] });
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await askName(lab.port));
    expect(seen[0]).not.toBe(seen[1]);
    for (let i = 2; i < 6; i++) expect(seen[i]).toBe(seen[i - 2]);
    expect(new Set(seen)).toEqual(new Set(["A", "B"]));
  });

  test("wrr with weights 3:1 sends three of every four connections to the heavier one", async () => {
    using a = nameBackend("A");
    using b = nameBackend("B");
    await using lab = await Lab.start({
      scheduler: "wrr",
      backends: [
        { port: a.port, weight: 3 },
        { port: b.port, weight: 1 },
      ],
    });
    const count = { A: 0, B: 0 } as Record<string, number>;
    for (let i = 0; i < 8; i++) count[await askName(lab.port)]++;
    expect(count).toEqual({ A: 6, B: 2 });
    expect(lab.dest(a.port).stats.read().conns).toBe(6n);
  });

  test("counters: bytes each way per real server and service", async () => {
    using a = echoBackend();
    await using lab = await Lab.start({ backends: [{ port: a.port }] });
    using c = await Client.connect(lab.port);
    c.sock.write("hello");
    await waitFor(() => c.received === 5);
    const s = lab.dest(a.port).stats.read();
    expect([s.inbytes, s.outbytes]).toEqual([5n, 5n]);
    expect(lab.director.findService(lab.id)!.stats.read().inbytes).toBe(5n);
    expect(lab.plane.stats().openConnections).toBe(1);
  });
});

describe("TCP proxy: connection states (-Lnc) and ActiveConn/InActConn", () => {
  test("ESTABLISHED, client FIN → CLOSE_WAIT, server FIN → TIME_WAIT, then expiry", async () => {
    using a = echoBackend();
    await using lab = await Lab.start({ backends: [{ port: a.port }] });
    const dest = lab.dest(a.port);
    using c = await Client.connect(lab.port);
    const cport = c.sock.localPort;
    c.sock.write("x");
    await waitFor(() => c.received === 1);
    expect(lab.state(cport)).toBe("ESTABLISHED");
    expect([dest.activeConns, dest.inactConns]).toEqual([1, 0]);
    c.sock.shutdown();
    // The echo backend answers FIN with FIN at once, so both sides close.
    await c.closedWithin();
    await waitFor(() => lab.state(cport) === "TIME_WAIT");
    expect([dest.activeConns, dest.inactConns]).toEqual([0, 1]);
    lab.advance(120_000);
    expect(lab.state(cport)).toBeNull();
    expect([dest.activeConns, dest.inactConns]).toEqual([0, 0]);
  });

  test("client half-close shows CLOSE_WAIT while the server still talks", async () => {
    using hold = echoBackendHoldingFin();
    await using lab = await Lab.start({ backends: [{ port: hold.port }] });
    using c = await Client.connect(lab.port);
    const cport = c.sock.localPort;
    c.sock.write("ping");
    await waitFor(() => c.received === 4);
    c.sock.shutdown();
    await waitFor(() => hold.conns[0]?.data.fin === true, 3000, "FIN at the backend");
    expect(lab.state(cport)).toBe("CLOSE_WAIT");
    expect(lab.dest(hold.port).inactConns).toBe(1);
    hold.conns[0].write("late");
    await waitFor(() => c.text() === "pinglate");
    hold.conns[0].shutdown();
    await c.closedWithin();
    await waitFor(() => lab.state(cport) === "TIME_WAIT");
  });

  test("server half-close first shows FIN_WAIT; the client's reply still reaches the server", async () => {
    using hold = echoBackendHoldingFin();
    await using lab = await Lab.start({ backends: [{ port: hold.port }] });
    using c = await Client.connect(lab.port);
    const cport = c.sock.localPort;
    await waitFor(() => hold.conns.length === 1);
    hold.conns[0].write("bye");
    hold.conns[0].shutdown();
    await waitFor(() => c.fin, 3000, "FIN at the client");
    expect(c.text()).toBe("bye");
    expect(lab.state(cport)).toBe("FIN_WAIT");
    c.sock.write("after-fin");
    c.sock.shutdown();
    await waitFor(() => hold.conns[0].data.closed, 3000, "backend close");
    expect(backendText(hold.conns[0].data)).toBe("after-fin");
    expect(hold.conns[0].data.closeError).toBeUndefined();
    await c.closedWithin();
    await waitFor(() => lab.state(cport) === "TIME_WAIT");
  });
});

/** Echoes data but does not answer FIN: the test closes its side by hand. */
function echoBackendHoldingFin(): Backend {
  return backend("hold", { data: (s, d) => s.write(d) });
}
