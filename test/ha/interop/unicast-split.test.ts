/**
 * Issue 8 §2: unicast mode between uvs and keepalived (VRRPv2 with PASS authentication), and split
 * brain — adverts lost one way — with what each side does.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { masterDownMs } from "../../../src/ha/vrrp-timing.ts";
import { keepalivedConf, uvsRules } from "./confs.ts";
import { HaLab, ip, kaState, labSkip, labWhy, waitFor } from "./lab.ts";

const A = "192.0.2.1"; // uvs
const B = "192.0.2.2"; // keepalived
const P100 = { version: 2 as const, priority: 100, intervalCs: 100, downTimerAdverts: 3 };
const labs: HaLab[] = [];
afterAll(async () => {
  for (const l of labs) await l.down();
});

describe.skipIf(labSkip)(`uvs and keepalived (${labWhy})`, () => {
  test("unicast with PASS: keepalived master 150 / uvs backup 100 accept each other; unicast on the wire; takeover and preemption", async () => {
    const lab = new HaLab(`u${process.pid % 10000}`);
    labs.push(lab);
    lab.up({ a: A, b: B, c: "192.0.2.9" });
    await lab.capture();
    lab.backend("a", "127.0.0.1", 8081, "uvs-a");
    lab.backend("b", "0.0.0.0", 80, "ka-b");
    const kaConf = keepalivedConf({
      state: "MASTER",
      priority: 150,
      auth: "s3cret",
      unicast: { src: B, peers: [A] },
    });
    let ka = lab.keepalived("b", kaConf);
    await waitFor("keepalived's first advert", 6000, () => lab.adverts(B).length > 0);
    const uvs = await lab.uvs(
      "a",
      uvsRules({ state: "BACKUP", priority: 100, auth: "s3cret", unicast: { src: A, peers: [B] } }, 8081),
    );
    await Bun.sleep(masterDownMs(P100) + 700);
    expect((await uvs.state())?.state).toBe("backup");
    expect((await uvs.state())?.master).toBe(B);
    expect(lab.adverts(B).every((e) => e.dst === A)).toBe(true);
    await ka.stop();
    const first = await waitFor("uvs master", 3000, () => lab.adverts(A)[0]);
    expect(first.dst).toBe(B); // unicast to the peer, not to 224.0.0.18
    const restart = performance.timeOrigin + performance.now();
    ka = lab.keepalived("b", kaConf);
    // keepalived hears uvs's unicast adverts (auth and all accepted) and preempts; uvs yields
    await waitFor("keepalived preempting", 6000, () => lab.adverts(B, restart).find((e) => e.prio === 150));
    await waitFor("uvs backup again", 1000, async () => (await uvs.state())?.state === "backup");
    expect(ka.p.output()).not.toMatch(/[Ii]nvalid|mismatch|authentication/);
    // uvs accepted the password too: no drops counted
    const snap = (await uvs.vrrp())[0] as unknown as { drops: Record<string, number> };
    expect(snap.drops).toEqual({});
    await ka.stop();
    await uvs.stop();
  }, 60_000);

  test("split brain: uvs (backup) stops hearing keepalived (master) — both master, keepalived keeps forcing elections; healed, uvs yields", async () => {
    const lab = new HaLab(`s${process.pid % 10000}`);
    labs.push(lab);
    lab.up({ a: A, b: B, c: "192.0.2.9" });
    await lab.capture();
    lab.backend("a", "127.0.0.1", 8081, "uvs-a");
    lab.backend("b", "0.0.0.0", 80, "ka-b");
    const ka = lab.keepalived("b", keepalivedConf({ state: "MASTER", priority: 150 }));
    await waitFor("keepalived's first advert", 6000, () => lab.adverts(B).length > 0);
    const uvs = await lab.uvs("a", uvsRules({ state: "BACKUP", priority: 100 }, 8081));
    await Bun.sleep(1500);
    expect((await uvs.state())?.state).toBe("backup");
    // One-way loss B → A: a route to B over another link makes A's reverse-path filter drop
    // everything from B arriving on eth0 (no tc actions or netfilter on this kernel).
    const nsA = lab.ns("a");
    ip("-n", nsA, "link", "add", "blk0", "type", "veth", "peer", "name", "blk1");
    ip("-n", nsA, "link", "set", "blk0", "up");
    ip("-n", nsA, "link", "set", "blk1", "up");
    ip("-n", nsA, "route", "add", `${B}/32`, "dev", "blk0");
    for (const k of ["all", "eth0"])
      ip("netns", "exec", nsA, "sysctl", "-qw", `net.ipv4.conf.${k}.rp_filter=1`);
    const cut = performance.timeOrigin + performance.now();
    const uvsFirst = await waitFor("uvs master (it hears no one)", 6000, () => lab.adverts(A, cut)[0]);
    const lastB = lab
      .adverts(B)
      .filter((e) => e.t < cut)
      .at(-1);
    const alone = uvsFirst.t - (lastB?.t ?? 0);
    console.log(`split: uvs master ${alone.toFixed(0)} ms after the last advert before the cut`);
    expect(Math.abs(alone - masterDownMs(P100))).toBeLessThan(100);
    await Bun.sleep(3000);
    // keepalived stays master and answers every lower advert with an advert and 5 GARPs
    expect(kaState(ka.p.output())).toBe("master");
    expect(ka.p.output()).toMatch(
      /Received advert from 192\.0\.2\.1 with lower priority 100, ours 150, forcing new election/,
    );
    const window = lab.wire.filter((e) => e.t > uvsFirst.t + 500 && e.t < uvsFirst.t + 2500);
    const kaGarps = window.filter((e) => e.kind === "arp").length;
    console.log(`split: ${kaGarps} gratuitous ARPs in 2 s on the wire (both sides)`);
    expect(kaGarps).toBeGreaterThanOrEqual(10);
    expect((await uvs.state())?.state).toBe("master");
    // heal: uvs hears the higher priority again and steps down at once
    ip("-n", nsA, "route", "del", `${B}/32`, "dev", "blk0");
    const healed = performance.timeOrigin + performance.now();
    await waitFor("uvs back to backup", 2500, async () => (await uvs.state())?.state === "backup");
    console.log(
      `healed: uvs backup after ${(performance.timeOrigin + performance.now() - healed).toFixed(0)} ms`,
    );
    expect(kaState(ka.p.output())).toBe("master");
    await ka.stop();
    await uvs.stop();
  }, 60_000);
});
