import { describe, expect, test } from "bun:test";
import type { ProxyServiceSpec } from "../../src/dataplane/proxy/plane.ts";
import { serviceKey } from "../../src/model/service.ts";
import { destConfig, ip, svcConfig } from "../helpers/director.ts";
import { backend, Client, echoBackend, freePort, Lab, LO, waitFor } from "./helpers.ts";

/** A second TCP service on the lab's director, with its own listen spec. */
function addTcpService(lab: Lab, port: number, addr = LO, destPort = 9): ProxyServiceSpec {
  const id = { kind: "addr", af: "inet", protocol: "tcp", addr: ip(addr), port } as const;
  lab.director.apply({ op: "add-service", service: id, config: svcConfig() });
  lab.director.apply({ op: "add-server", service: id, dest: destConfig(LO, destPort) });
  return {
    key: serviceKey(id),
    listen: [{ addr: ip(addr), port, protocol: "tcp" }],
    proxyProtocol: new Map(),
  };
}

async function refused(port: number): Promise<boolean> {
  try {
    const s = await Bun.connect({ hostname: LO, port, socket: { data() {} } });
    s.terminate();
    return false;
  } catch {
    return true;
  }
}

describe("ProxyPlane: listeners", () => {
  test("an address in use is an error event with the endpoint; the other endpoints keep working", async () => {
    using echo = echoBackend();
    using squatter = backend("squatter");
    await using lab = await Lab.start({ backends: [{ port: echo.port }] });
    const busy = addTcpService(lab, squatter.port);
    await lab.plane.sync([lab.spec(), busy]);
    const err = lab.events.find((e) => e.type === "listen-error");
    expect(err).toMatchObject({ type: "listen-error", endpoint: `tcp:${LO}:${squatter.port}` });
    const st = lab.plane.stats();
    expect(st.listenerErrors).toBe(1);
    expect(st.listenerFailures.map((f) => f.endpoint)).toEqual([`tcp:${LO}:${squatter.port}`]);
    expect(st.listeners.map((l) => l.endpoint)).toEqual([`tcp:${LO}:${lab.port}`]);
    using c = await Client.connect(lab.port);
    c.sock.write("still here");
    await waitFor(() => c.text() === "still here");
  });

  test("an address that is not local is an error event, not a crash", async () => {
    await using lab = await Lab.start({ backends: [] });
    // TEST-NET-1 is never a local address: bind fails (EADDRNOTAVAIL) without sending anything.
    const foreign = addTcpService(lab, 8080, "192.0.2.1");
    await lab.plane.sync([lab.spec(), foreign]);
    expect(lab.events.find((e) => e.type === "listen-error")).toMatchObject({
      endpoint: "tcp:192.0.2.1:8080",
    });
    expect(lab.plane.stats().listeners.length).toBe(1);
  });

  test("a failed UDP bind is reported too", async () => {
    await using lab = await Lab.start({ backends: [] });
    const holder = await Bun.udpSocket({ hostname: LO, port: 0 });
    try {
      const spec: ProxyServiceSpec = {
        key: "udp:x",
        listen: [{ addr: ip(LO), port: holder.port, protocol: "udp" }],
        proxyProtocol: new Map(),
      };
      await lab.plane.sync([lab.spec(), spec]);
      expect(lab.events.find((e) => e.type === "listen-error")).toMatchObject({
        endpoint: `udp:${LO}:${holder.port}`,
      });
    } finally {
      holder.close();
    }
  });

  test("a removed endpoint stops accepting; its open connections run on", async () => {
    using echo = echoBackend();
    await using lab = await Lab.start({ backends: [{ port: echo.port }] });
    using c = await Client.connect(lab.port);
    c.sock.write("a");
    await waitFor(() => c.received === 1);
    await lab.plane.sync([]);
    expect(lab.events.at(-1)).toEqual({ type: "listener-closed", endpoint: `tcp:${LO}:${lab.port}` });
    expect(await refused(lab.port)).toBe(true);
    c.sock.write("b");
    await waitFor(() => c.text() === "ab");
    // Added back: listening again.
    await lab.plane.sync([lab.spec()]);
    using c2 = await Client.connect(lab.port);
    c2.sock.write("c");
    await waitFor(() => c2.text() === "c");
  });

  test("sync is idempotent: an unchanged endpoint keeps its listener", async () => {
    await using lab = await Lab.start({ backends: [] });
    const before = lab.events.length;
    await lab.plane.sync([lab.spec()]);
    await lab.plane.sync([lab.spec()]);
    expect(lab.events.length).toBe(before);
  });

  test("a removed UDP endpoint keeps its socket until its last flow expires", async () => {
    const replies: string[] = [];
    const be = await Bun.udpSocket({
      hostname: LO,
      port: 0,
      socket: {
        data(s, d, port, addr) {
          s.send(d, port, addr);
        },
      },
    });
    const cl = await Bun.udpSocket({
      hostname: LO,
      port: 0,
      socket: {
        data(_s, d) {
          replies.push(d.toString());
        },
      },
    });
    try {
      await using lab = await Lab.start({ protocol: "udp", backends: [{ port: be.port }] });
      cl.send("1", lab.port, LO);
      await waitFor(() => replies.length === 1);
      await lab.plane.sync([]);
      expect(lab.plane.stats().listeners).toEqual([
        { endpoint: `udp:${LO}:${lab.port}`, service: lab.key, draining: true },
      ]);
      cl.send("2", lab.port, LO);
      await waitFor(() => replies.length === 2, 3000, "reply on a draining endpoint");
      lab.advance(301_000);
      expect(lab.plane.stats().listeners).toEqual([]);
      expect(lab.events.at(-1)).toEqual({ type: "listener-closed", endpoint: `udp:${LO}:${lab.port}` });
    } finally {
      be.close();
      cl.close();
    }
  });
});

describe("ProxyPlane: idle expiry, drain, close", () => {
  test("an idle TCP connection is closed when the director expires its entry (900 s)", async () => {
    using echo = echoBackend();
    await using lab = await Lab.start({ backends: [{ port: echo.port }] });
    using c = await Client.connect(lab.port);
    c.sock.write("a");
    await waitFor(() => c.received === 1);
    lab.advance(899_000);
    await Bun.sleep(20);
    expect(c.closed).toBe(false);
    lab.advance(1_001);
    await c.closedWithin();
    await waitFor(() => echo.conns[0].data.closed, 3000, "backend close");
    expect(lab.plane.stats()).toMatchObject({ expired: 1, openConnections: 0 });
  });

  test("drain: stops accepting, waits for connections, closes what is left at the deadline", async () => {
    using echo = echoBackend();
    await using lab = await Lab.start({ backends: [{ port: echo.port }] });
    using idle = await Client.connect(lab.port);
    using done = await Client.connect(lab.port);
    idle.sock.write("i");
    done.sock.write("d");
    await waitFor(() => idle.received === 1 && done.received === 1);
    const t0 = performance.now();
    const draining = lab.plane.drain(400);
    await Bun.sleep(20);
    expect(await refused(lab.port)).toBe(true);
    done.sock.shutdown(); // finishes by itself
    await done.closedWithin();
    expect(idle.closed).toBe(false);
    await draining;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(380);
    await idle.closedWithin();
    expect(lab.plane.stats().openConnections).toBe(0);
  });

  test("drain returns at once when nothing is open", async () => {
    await using lab = await Lab.start({ backends: [] });
    const t0 = performance.now();
    await lab.plane.drain(5000);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(lab.plane.stats().listeners).toEqual([]);
  });

  test("close: everything is shut and the expiry hook is removed", async () => {
    using echo = echoBackend();
    await using lab = await Lab.start({ backends: [{ port: echo.port }] });
    using c = await Client.connect(lab.port);
    c.sock.write("a");
    await waitFor(() => c.received === 1);
    await lab.plane.close();
    await c.closedWithin();
    expect(lab.director.hooks.expired).toBeUndefined();
    expect(await refused(lab.port)).toBe(true);
    expect(freePort()).toBeGreaterThan(0);
  });
});
