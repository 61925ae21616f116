/**
 * SyncDaemons over real UDP on loopback (unicast group, a uvs extension): a master director's
 * connections reach a backup director in the same process; start, stop, defaults, refusals.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { TCP_STATE_NAMES } from "../../src/conntrack/states.ts";
import type { SyncDaemonConfig } from "../../src/director/api.ts";
import { account, flowEvent, openFlow } from "../../src/director/flows.ts";
import { SyncDaemons } from "../../src/sync/daemon.ts";
import { FLUSH_TIME_MS } from "../../src/sync/master.ts";
import { effectiveMaxlen } from "../../src/sync/transport.ts";
import { freePort } from "../helpers/daemon.ts";
import { destConfig, directorWith, ip, svcConfig, tcpService } from "../helpers/director.ts";

const running: SyncDaemons[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

function daemonCfg(
  state: "master" | "backup",
  port: number,
  over: Partial<SyncDaemonConfig> = {},
): SyncDaemonConfig {
  return { state, mcastIfn: "lo", syncid: 3, group: ip("127.0.0.1"), port, ...over };
}

async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await Bun.sleep(20);
  }
  return cond();
}

describe("SyncDaemons on loopback", () => {
  test("master → backup: an established connection appears on the backup with its state", async () => {
    const port = await freePort();
    const dests = [destConfig("198.51.100.11")];
    const a = directorWith(svcConfig(), dests);
    const b = directorWith(svcConfig(), dests);
    const ra = new SyncDaemons(a);
    const rb = new SyncDaemons(b);
    running.push(ra, rb);
    expect(b.apply({ op: "start-daemon", daemon: daemonCfg("backup", port) }).ok).toBe(true);
    expect(await rb.update()).toEqual({ ok: true });
    expect(a.apply({ op: "start-daemon", daemon: daemonCfg("master", port) }).ok).toBe(true);
    expect(await ra.update()).toEqual({ ok: true });
    // Defaults filled in as the kernel reports them.
    expect(a.syncDaemons[0]).toMatchObject({ maxlen: 1472, port, ttl: 1 });
    expect(b.syncDaemons[0].maxlen).toBe(effectiveMaxlen("backup", undefined, "inet", 65536));

    const svc = a.findService(tcpService())!;
    const f = openFlow(a, svc, {
      proto: 6,
      caddr: ip("203.0.113.5"),
      cport: 40000,
      vaddr: ip("192.0.2.10"),
      vport: 80,
    })!;
    flowEvent(a, f.ref, "established");
    account(a, f.ref, "in", 100);
    // A partly filled message waits 2 s on the master's clock.
    a.advance(a.now + FLUSH_TIME_MS);
    await Bun.sleep(1100); // the master's once-a-second check
    expect(await until(() => b.conns.size === 1)).toBe(true);
    const [slot] = b.conns.slots();
    expect([b.conns.caddr(slot).text, b.conns.cport(slot), TCP_STATE_NAMES[b.conns.state(slot)]]).toEqual([
      "203.0.113.5",
      40000,
      "ESTABLISHED",
    ]);
    expect(rb.stats().backup).toMatchObject({ messages: 1, conns: 1 });
    expect(b.findService(tcpService())!.dests[0].activeConns).toBe(1);

    // stop-daemon backup: nothing more is applied.
    b.apply({ op: "stop-daemon", state: "backup", syncid: 0 });
    expect(await rb.update()).toEqual({ ok: true });
    expect(rb.stats().backup).toBeNull();
    flowEvent(a, f.ref, "client-fin");
    a.advance(a.now + FLUSH_TIME_MS);
    await Bun.sleep(1200);
    expect(ra.stats().master?.messages).toBe(2);
    expect(TCP_STATE_NAMES[b.conns.state(slot)]).toBe("ESTABLISHED");
  });

  test("sync id filter: a backup with another non-zero syncid refuses the messages", async () => {
    const port = await freePort();
    const a = directorWith(svcConfig(), [destConfig("198.51.100.11")]);
    const b = directorWith(svcConfig(), [destConfig("198.51.100.11")]);
    const ra = new SyncDaemons(a);
    const rb = new SyncDaemons(b);
    running.push(ra, rb);
    b.apply({ op: "start-daemon", daemon: daemonCfg("backup", port, { syncid: 9 }) });
    await rb.update();
    a.apply({ op: "start-daemon", daemon: daemonCfg("master", port) });
    await ra.update();
    const svc = a.findService(tcpService())!;
    const f = openFlow(a, svc, {
      proto: 6,
      caddr: ip("203.0.113.5"),
      cport: 1,
      vaddr: ip("192.0.2.10"),
      vport: 80,
    })!;
    flowEvent(a, f.ref, "established");
    flowEvent(a, f.ref, "client-fin");
    a.advance(a.now + FLUSH_TIME_MS);
    expect(await until(() => rb.stats().backup!.refused === 1, 3000)).toBe(true);
    expect(b.conns.size).toBe(0);
  });

  test("an interface that does not exist is refused with ENODEV before anything starts", () => {
    const r = SyncDaemons.check({ state: "master", mcastIfn: "nosuchif0", syncid: 0 });
    expect(r).toEqual({ ok: false, errno: "ENODEV" });
  });

  test("a backup that cannot bind is taken out of the daemon state, with the reason", async () => {
    const b = directorWith(svcConfig(), []);
    const rb = new SyncDaemons(b);
    running.push(rb);
    // 192.0.2.1 is not an address of this host's loopback: bind fails.
    b.apply({ op: "start-daemon", daemon: daemonCfg("backup", 8848, { group: ip("192.0.2.1") }) });
    const r = await rb.update();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain("sync backup cannot start on lo");
    expect(b.syncDaemons).toEqual([]);
  });
});

describe("sync_maxlen as start_sync_thread computes it", () => {
  test("defaults and clamps", () => {
    expect(effectiveMaxlen("master", undefined, "inet", 9000)).toBe(1472);
    expect(effectiveMaxlen("master", undefined, "inet6", 1500)).toBe(1452);
    expect(effectiveMaxlen("backup", undefined, "inet", 9000)).toBe(8972);
    expect(effectiveMaxlen("backup", undefined, "inet", 1280)).toBe(1472);
    expect(effectiveMaxlen("backup", 100, "inet", 1500)).toBe(1024);
    expect(effectiveMaxlen("master", 100, "inet", 1500)).toBe(100);
    expect(effectiveMaxlen("master", 65535, "inet", 1500)).toBe(65507);
  });
});
