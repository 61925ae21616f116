/**
 * Issue 8 §2: keepalived MASTER (priority 150) and uvs BACKUP (priority 100), VRRPv2 multicast.
 * uvs stays backup; keepalived stops (priority 0): uvs takes over after Skew_Time; keepalived comes
 * back and preempts; keepalived crashes (no priority 0): uvs takes over after Master_Down_Interval.
 * Timings are measured on the bridge (tcpdump's kernel timestamps) and checked to ±100 ms.
 */
import { afterAll, expect, test } from "bun:test";
import { masterDownMs, skewMs } from "../../../src/ha/vrrp-timing.ts";
import { keepalivedConf, uvsRules } from "./confs.ts";
import { HaLab, labSkip, labWhy, waitFor } from "./lab.ts";

const A = "192.0.2.1"; // uvs
const B = "192.0.2.2"; // keepalived
const lab = new HaLab(`k${process.pid % 10000}`);
afterAll(() => lab.down());

const P100 = { version: 2 as const, priority: 100, intervalCs: 100, downTimerAdverts: 3 };

test.skipIf(labSkip)(
  `keepalived master, uvs backup: stays backup, takes over on stop and crash, yields on preemption (${labWhy})`,
  async () => {
    lab.up({ a: A, b: B, c: "192.0.2.9" });
    await lab.capture();
    lab.backend("a", "127.0.0.1", 8081, "uvs-a");
    lab.backend("b", "0.0.0.0", 80, "ka-b");
    const kaConf = keepalivedConf({ state: "MASTER", priority: 150 });
    let ka = lab.keepalived("b", kaConf);
    // state MASTER below 255 still waits Master_Down_Interval (3.414 s) before its first advert
    await waitFor("keepalived's first advert", 6000, () => lab.adverts(B).length > 0);
    const uvs = await lab.uvs("a", uvsRules({ state: "BACKUP", priority: 100 }, 8081));
    await Bun.sleep(masterDownMs(P100) + 700);
    const s1 = await uvs.state();
    expect(s1?.state).toBe("backup");
    expect(s1?.master).toBe(B);
    expect(lab.adverts(A)).toEqual([]);
    // a backup does not hold the VIP: its listener waits, which is not an error
    expect(uvs.p.output()).toContain("not listening until this director is VRRP master");
    expect(uvs.p.output()).not.toContain("cannot listen");

    const client = lab.client("c", 100);
    await Bun.sleep(1000);
    expect(client.results().filter((r) => r.ok && r.body === "ka-b").length).toBeGreaterThan(3);

    // 1. keepalived stops: priority 0, uvs takes over after Skew_Time
    const stopAt = Date.now();
    await ka.stop();
    const zero = await waitFor("keepalived's priority-0 advert", 2000, () =>
      lab.adverts(B).find((e) => e.prio === 0),
    );
    const first = await waitFor("uvs's first advert", 3000, () => lab.adverts(A)[0]);
    const takeover = first.t - zero.t;
    console.log(
      `priority 0 → uvs master: ${takeover.toFixed(1)} ms (Skew_Time ${skewMs(P100).toFixed(1)} ms)`,
    );
    expect(Math.abs(takeover - skewMs(P100))).toBeLessThan(100);
    expect(first.prio).toBe(100);
    // gratuitous ARPs for the VIP from uvs right after its first advert
    await waitFor(
      "uvs's gratuitous ARPs",
      1000,
      () =>
        lab.wire.filter((e) => e.kind === "arp" && e.t >= first.t && e.line.includes("192.0.2.100")).length >=
        5,
    );
    expect((await uvs.state())?.state).toBe("master");
    await Bun.sleep(1500);
    const after = client.results(stopAt + 1000);
    expect(after.length).toBeGreaterThan(5);
    expect(after.every((r) => r.ok && r.body === "uvs-a")).toBe(true);

    // 2. keepalived starts again: it discards uvs's lower adverts and preempts by timeout
    const restart = performance.timeOrigin + performance.now();
    ka = lab.keepalived("b", kaConf);
    const back = await waitFor("keepalived's advert after restart", 6000, () =>
      lab.adverts(B, restart).find((e) => e.prio === 150),
    );
    const s2 = await waitFor("uvs back to backup", 1000, async () => {
      const s = await uvs.state();
      return s?.state === "backup" ? s : null;
    });
    expect(s2.master).toBe(B);
    const lastUvs = lab.adverts(A).at(-1);
    expect(lastUvs && lastUvs.t <= back.t + 1).toBe(true); // uvs went silent at once
    await Bun.sleep(1500);
    const served = client.results(Date.now() - 800);
    expect(served.length).toBeGreaterThan(3);
    expect(served.every((r) => r.ok && r.body === "ka-b")).toBe(true);

    // 3. keepalived crashes: no priority 0; uvs takes over Master_Down_Interval after the last advert
    await ka.crash();
    const crashAt = performance.timeOrigin + performance.now();
    const firstAfter = await waitFor("uvs master after the crash", 6000, () => lab.adverts(A, crashAt)[0]);
    const lastKa = lab
      .adverts(B)
      .filter((e) => e.t < firstAfter.t)
      .at(-1);
    const down = firstAfter.t - (lastKa?.t ?? 0);
    console.log(
      `keepalived crash → uvs master: ${down.toFixed(1)} ms after its last advert (Master_Down_Interval ${masterDownMs(P100).toFixed(1)} ms)`,
    );
    expect(Math.abs(down - masterDownMs(P100))).toBeLessThan(100);
    const s3 = await uvs.state();
    expect(s3?.state).toBe("master");
    expect(s3?.transitions.map((t) => t.to)).toEqual(["backup", "master", "backup", "master"]);
    client.stop();
    await uvs.stop();
    // uvs as master on SIGTERM: one priority-0 advert
    await waitFor("uvs's priority-0 advert", 2000, () => lab.adverts(A).find((e) => e.prio === 0));
  },
  60_000,
);
