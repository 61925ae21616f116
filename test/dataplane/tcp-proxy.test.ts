import { describe, expect, test } from "bun:test";
import { ProxyPlane } from "../../src/dataplane/proxy/plane.ts";
import { Director } from "../../src/director/director.ts";
import { serviceKey } from "../../src/model/service.ts";
import { destConfig, ip, svcConfig } from "../helpers/director.ts";
import {
  askName,
  type Backend,
  backend,
  backendText,
  Client,
  echoBackend,
  freePort,
  Lab,
  LO,
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
    // A flow on a relay thread reports its bytes every 100 ms (UVS_RELAY_AFTER=0 moves this one).
    const dest = () => lab.dest(a.port).stats.read();
    await waitFor(() => dest().outbytes === 5n, 1000, "the counters");
    const s = dest();
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

describe("TCP proxy: resets and failures", () => {
  test("a client reset resets the backend connection; the entry goes to CLOSE", async () => {
    using hold = echoBackendHoldingFin();
    await using lab = await Lab.start({ backends: [{ port: hold.port }] });
    const c = await Client.connect(lab.port);
    const cport = c.sock.localPort;
    c.sock.write("x");
    await waitFor(() => c.received === 1);
    c.sock.terminate();
    await waitFor(() => hold.conns[0].data.closed, 3000, "backend close");
    expect(hold.conns[0].data.closeError?.message).toMatch(/ECONNRESET|reset/i);
    expect(lab.state(cport)).toBe("CLOSE");
    await waitFor(() => lab.plane.stats().openConnections === 0);
  });

  test("a backend reset resets the client", async () => {
    using hold = echoBackendHoldingFin();
    await using lab = await Lab.start({ backends: [{ port: hold.port }] });
    using c = await Client.connect(lab.port);
    const cport = c.sock.localPort;
    c.sock.write("x");
    await waitFor(() => c.received === 1);
    hold.conns[0].terminate();
    await c.closedWithin();
    expect(c.closeError?.message).toMatch(/ECONNRESET|reset/i);
    expect(lab.state(cport)).toBe("CLOSE");
  });

  test("a refused upstream connect closes the client, counts a failure for that server and logs it", async () => {
    const dead = freePort();
    await using lab = await Lab.start({ backends: [{ port: dead }] });
    const c = await Client.connectToReset(lab.port);
    await c?.closedWithin();
    expect(c?.received ?? 0).toBe(0);
    await waitFor(() => lab.plane.stats().connectFailures[`${LO}:${dead}`] === 1, 1000, "the failure");
    const ev = lab.events.find((e) => e.type === "connect-failed");
    expect(ev).toMatchObject({ type: "connect-failed", service: lab.key, dest: `${LO}:${dead}` });
    expect((ev as { reason: string }).reason).toMatch(/ECONNREFUSED|refused/i);
    expect(lab.states()).toEqual(["CLOSE"]);
    expect(lab.plane.stats().openConnections).toBe(0);
  });

  test("a real server that is the proxy's own listener is refused instead of looping", async () => {
    await using lab = await Lab.start({ backends: [] });
    lab.addServer(lab.port, 1); // the VIP itself as its real server
    await (await Client.connectToReset(lab.port))?.closedWithin();
    await waitFor(() => lab.plane.stats().connectFailures[`${LO}:${lab.port}`] === 1, 1000, "the failure");
    expect(lab.plane.stats().connectFailures).toEqual({ [`${LO}:${lab.port}`]: 1 });
    expect(lab.plane.stats().accepted).toBe(1);
    const ev = lab.events.find((e) => e.type === "connect-failed") as { reason: string };
    expect(ev.reason).toContain("would loop");
  });

  test("with no destination the client is closed at once and counted", async () => {
    await using lab = await Lab.start({ backends: [] });
    await (await Client.connectToReset(lab.port))?.closedWithin();
    await waitFor(() => lab.plane.stats().noDestination === 1, 1000, "the count");
    expect(lab.director.conns.size).toBe(0);
  });
});

describe("TCP proxy: connect timeout", () => {
  // A listener that never accepts (backlog 0, one queued connection) makes Linux drop further SYNs,
  // so a connect to it hangs: the only loopback way to get a connect that does not finish.
  test.skipIf(!Bun.which("python3"))(
    "an upstream that never answers is given up after the timeout",
    async () => {
      await using stuck = await stuckListener();
      await using lab = await Lab.start({ backends: [{ port: stuck.port }], connectTimeoutMs: 300 });
      using c = await Client.connect(lab.port);
      const cport = c.sock.localPort;
      await Bun.sleep(100);
      expect(lab.state(cport)).toBe("SYN_RECV");
      expect(lab.dest(stuck.port).activeConns).toBe(1);
      const t0 = performance.now();
      await c.closedWithin(3000);
      expect(performance.now() - t0).toBeLessThan(1500);
      expect(lab.plane.stats().connectFailures).toEqual({ [`${LO}:${stuck.port}`]: 1 });
      expect(lab.events.find((e) => e.type === "connect-failed")).toMatchObject({
        reason: "connect timeout",
      });
      expect(lab.state(cport)).toBe("CLOSE");
      expect(lab.dest(stuck.port).activeConns).toBe(0);
    },
  );
});

describe("TCP proxy: what the client sent before the upstream is up", () => {
  // The proxy reads the client's first bytes at accept and sends them with the connect; when the
  // connect has not finished (here: its SYN is dropped by a full accept queue and retried after
  // about a second), the bytes wait for it and nothing is lost or reordered.
  test.skipIf(!Bun.which("python3"))(
    "bytes read at accept wait for a connect that finishes late, then go first",
    async () => {
      await using late = await lateListener(600);
      await using lab = await Lab.start({ backends: [{ port: late.port }], connectTimeoutMs: 5000 });
      using c = await Client.connect(lab.port);
      c.sock.write("first bytes;");
      const cport = c.sock.localPort;
      await Bun.sleep(200);
      expect(lab.state(cport)).toBe("SYN_RECV");
      // A second client read meanwhile (into the same receive buffer) must not change the first's bytes.
      using other = await Client.connect(lab.port);
      other.sock.write("other client");
      await Bun.sleep(50);
      c.sock.write("then more");
      await waitFor(() => c.text() === "first bytes;then more", 5000, "the echo through a late connect");
      await waitFor(() => other.text() === "other client", 5000, "the second client's echo");
      expect(lab.state(cport)).toBe("ESTABLISHED");
      expect(lab.plane.stats().connectFailures).toEqual({});
    },
  );

  test("a request and its FIN sent before the accept: the answer and the FIN come back", async () => {
    using echo = echoBackend();
    await using lab = await Lab.start({ backends: [{ port: echo.port }] });
    using c = await Client.connect(lab.port);
    c.sock.write("ping");
    c.sock.shutdown();
    await c.closedWithin(); // the echo answers FIN with FIN: both sides close
    expect(c.text()).toBe("ping");
    expect(c.closeError).toBeUndefined();
  });
});

/** A python3 listener from `code` that prints its port; disposing of it stops it. */
async function pythonListener(code: string) {
  const py = Bun.spawn(["python3", "-c", code], { stdout: "pipe", stderr: "ignore" });
  const reader = py.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  const port = Number(new TextDecoder().decode(value).trim());
  return {
    port,
    async [Symbol.asyncDispose]() {
      py.kill();
      await py.exited;
    },
  };
}

/** Backlog 0 with one connection queued: Linux drops further SYNs. */
const FULL_QUEUE =
  "import socket,time,threading\ns=socket.socket();s.bind(('127.0.0.1',0));s.listen(0)\n" +
  "f=socket.create_connection(s.getsockname())\nprint(s.getsockname()[1],flush=True)\n";

/**
 * A listener whose accept queue is full for `ms`, so that a connect's SYN is dropped; then it
 * accepts everything and echoes (the SYN's retry gets through).
 */
function lateListener(ms: number) {
  return pythonListener(
    `${FULL_QUEUE}time.sleep(${ms / 1000})\n` +
      "def echo(c):\n  while True:\n    d=c.recv(65536)\n    if not d: break\n    c.sendall(d)\n" +
      "while True:\n  c,_=s.accept();threading.Thread(target=echo,args=(c,),daemon=True).start()",
  );
}

/** A listener that never accepts: a connect to it hangs. */
function stuckListener() {
  return pythonListener(`${FULL_QUEUE}time.sleep(20)`);
}

describe("TCP proxy: draining real servers", () => {
  test("weight 0: new connections avoid the server, its existing connection keeps working", async () => {
    using a = echoBackendHoldingFin();
    using b = nameBackend("B");
    await using lab = await Lab.start({ backends: [{ port: a.port }] });
    using held = await Client.connect(lab.port);
    held.sock.write("1");
    await waitFor(() => a.conns.length === 1);
    lab.addServer(b.port);
    lab.setWeight(a.port, 0);
    for (let i = 0; i < 4; i++) expect(await askName(lab.port)).toBe("B");
    held.sock.write("2");
    await waitFor(() => held.text() === "12", 3000, "echo on the drained server");
    expect(a.conns.length).toBe(1);
    expect(lab.dest(a.port).activeConns).toBe(1);
  });

  test("deleting a real server lets its connections finish; new ones go elsewhere", async () => {
    using a = echoBackendHoldingFin();
    using b = nameBackend("B");
    await using lab = await Lab.start({ backends: [{ port: a.port }] });
    using held = await Client.connect(lab.port);
    held.sock.write("1");
    await waitFor(() => a.conns.length === 1);
    lab.addServer(b.port);
    const destA = lab.dest(a.port);
    lab.deleteServer(a.port);
    expect(lab.director.findService(lab.id)!.dests.length).toBe(1);
    for (let i = 0; i < 3; i++) expect(await askName(lab.port)).toBe("B");
    held.sock.write("2");
    await waitFor(() => held.text() === "12", 3000, "echo on the deleted server");
    held.sock.shutdown();
    await waitFor(() => a.conns[0].data.fin, 3000, "FIN at the deleted server");
    a.conns[0].shutdown();
    await held.closedWithin();
    expect(held.closeError).toBeUndefined();
    expect(destA.stats.read().inbytes).toBe(2n);
    expect(lab.director.trash.has(destA)).toBe(true);
  });
});

describe("TCP proxy: IPv6", () => {
  test("an IPv6 VIP and real server on ::1, with a TCP6 PROXY v1 line", async () => {
    const got: Buffer[] = [];
    using be = Bun.listen({ hostname: "::1", port: 0, socket: { data: (_s, d) => void got.push(d) } });
    const probe = Bun.listen({ hostname: "::1", port: 0, socket: { data() {} } });
    const vport = probe.port;
    probe.stop(true);
    const d = new Director({});
    const id = { kind: "addr", af: "inet6", protocol: "tcp", addr: ip("::1"), port: vport } as const;
    expect(d.apply({ op: "add-service", service: id, config: svcConfig({ netmask: 128 }) }).ok).toBe(true);
    expect(
      d.apply({ op: "add-server", service: id, dest: destConfig("::1", be.port, { af: "inet6" }) }).ok,
    ).toBe(true);
    const plane = new ProxyPlane(d, { log: () => {} });
    try {
      await plane.sync([
        {
          key: serviceKey(id),
          listen: [{ addr: ip("::1"), port: vport, protocol: "tcp" }],
          proxyProtocol: new Map([[`[::1]:${be.port}`, "v1"]]),
        },
      ]);
      const c = await Bun.connect({ hostname: "::1", port: vport, socket: { data() {} } });
      c.write("six");
      await waitFor(() => Buffer.concat(got).toString().endsWith("six"));
      expect(Buffer.concat(got).toString()).toBe(`PROXY TCP6 ::1 ::1 ${c.localPort} ${vport}\r\nsix`);
      c.terminate();
    } finally {
      await plane.close();
    }
  });
});
