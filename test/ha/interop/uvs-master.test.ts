/**
 * Issue 8 §2, roles swapped and uvs against uvs: uvs MASTER (priority 150) with a BACKUP
 * (priority 100) that is keepalived, then another uvs. The backup stays backup; uvs stops
 * (priority 0): the backup takes over after Skew_Time; uvs starts again and preempts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { masterDownMs, skewMs } from "../../../src/ha/vrrp-timing.ts";
import { keepalivedConf, uvsRules } from "./confs.ts";
import { HaLab, kaState, labSkip, labWhy, type Uvs, waitFor } from "./lab.ts";

const A = "192.0.2.1"; // uvs, priority 150
const B = "192.0.2.2"; // the backup: keepalived or uvs, priority 100
const P100 = { version: 2 as const, priority: 100, intervalCs: 100, downTimerAdverts: 3 };
const P150 = { ...P100, priority: 150 };
const labs: HaLab[] = [];
afterAll(async () => {
  for (const l of labs) await l.down();
});

interface Backup {
  stop(): Promise<void>;
  state(): Promise<string>;
}

async function scenario(backupKind: "keepalived" | "uvs"): Promise<void> {
  const lab = new HaLab(`${backupKind === "uvs" ? "2" : "m"}${process.pid % 10000}`);
  labs.push(lab);
  lab.up({ a: A, b: B, c: "192.0.2.9" });
  await lab.capture();
  lab.backend("a", "127.0.0.1", 8081, "uvs-a");
  const rulesA = uvsRules({ state: "MASTER", priority: 150 }, 8081);
  let uvs: Uvs = await lab.uvs("a", rulesA);
  const first = await waitFor("uvs's first advert", 6000, () => lab.adverts(A)[0]);
  // state MASTER below 255 waits Master_Down_Interval too, as keepalived does
  let backup: Backup;
  if (backupKind === "keepalived") {
    lab.backend("b", "0.0.0.0", 80, "b");
    const ka = lab.keepalived("b", keepalivedConf({ state: "BACKUP", priority: 100 }));
    backup = {
      stop: () => ka.stop(),
      state: async () => kaState(ka.p.output()),
    };
  } else {
    lab.backend("b", "127.0.0.1", 8081, "b");
    const u = await lab.uvs("b", uvsRules({ state: "BACKUP", priority: 100 }, 8081));
    backup = { stop: () => u.stop(), state: async () => (await u.state())?.state ?? "none" };
  }
  await Bun.sleep(masterDownMs(P100) + 700);
  expect(await backup.state()).toBe("backup");
  expect(lab.adverts(B)).toEqual([]);
  expect(lab.adverts(A).every((e) => e.prio === 150)).toBe(true);
  expect(first.t).toBeGreaterThan(0);
  const client = lab.client("c", 100);
  await Bun.sleep(800);
  expect(client.results().filter((r) => r.ok && r.body === "uvs-a").length).toBeGreaterThan(3);

  // uvs stops: one priority-0 advert; the backup takes over after its Skew_Time
  const stopAt = Date.now();
  await uvs.stop();
  const zero = await waitFor("uvs's priority-0 advert", 2000, () => lab.adverts(A).find((e) => e.prio === 0));
  const took = await waitFor("the backup's first advert", 3000, () => lab.adverts(B)[0]);
  const skew = took.t - zero.t;
  console.log(
    `${backupKind} backup: uvs priority 0 → master in ${skew.toFixed(1)} ms (Skew_Time ${skewMs(P100).toFixed(1)})`,
  );
  expect(Math.abs(skew - skewMs(P100))).toBeLessThan(100);
  await Bun.sleep(1500);
  const during = client.results(stopAt + 1000);
  expect(during.length).toBeGreaterThan(5);
  expect(during.every((r) => r.ok && r.body === "b")).toBe(true);

  // uvs comes back: it discards the lower adverts and preempts after its own Master_Down_Interval
  const restart = performance.timeOrigin + performance.now();
  uvs = await lab.uvs("a", rulesA);
  const back = await waitFor("uvs preempting", 6000, () =>
    lab.adverts(A, restart).find((e) => e.prio === 150),
  );
  const lastB = lab
    .adverts(B)
    .filter((e) => e.t < back.t)
    .at(-1);
  // the preempting node's timer runs from its start, not from an advert: check it is about MDI(150)
  console.log(
    `uvs restart → master after ${(back.t - restart).toFixed(0)} ms (MDI ${masterDownMs(P150).toFixed(0)} ms + start-up)`,
  );
  expect(back.t - restart).toBeGreaterThan(masterDownMs(P150) - 100);
  await Bun.sleep(1200);
  expect(lab.adverts(B, back.t + 1)).toEqual([]); // the backup went silent at once
  expect(lastB).toBeDefined();
  expect((await uvs.state())?.state).toBe("master");
  expect(await backup.state()).toBe("backup");
  const served = client.results(Date.now() - 800);
  expect(served.length).toBeGreaterThan(3);
  expect(served.every((r) => r.ok && r.body === "uvs-a")).toBe(true);
  client.stop();
  await backup.stop();
  await uvs.stop();
}

describe.skipIf(labSkip)(`uvs master (${labWhy})`, () => {
  test(
    "keepalived backup: stays backup, takes over on uvs's priority 0, yields when uvs returns",
    () => scenario("keepalived"),
    60_000,
  );
  test("two uvs directors: the same", () => scenario("uvs"), 60_000);
});
