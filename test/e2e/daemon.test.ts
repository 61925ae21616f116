/**
 * The daemon as operators run it: `uvs run` in a subprocess, real back ends on loopback, ipvsadm
 * through the control socket, the rules file edited under it.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectControl } from "../../src/control/client.ts";
import type { DirectorOp } from "../../src/director/api.ts";
import { parseSnapshot } from "../../src/model/snapshot.ts";
import {
  bodyOf,
  freePort,
  httpGet,
  MAIN,
  namedServer,
  type RunningDaemon,
  rulesFile,
  startDaemon,
  until,
} from "../helpers/daemon.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(extra = "", sched = "rr", args: string[] = []) {
  const a = namedServer("a");
  const b = namedServer("b");
  cleanups.push(
    () => a.stop(true),
    () => b.stop(true),
  );
  const vip = await freePort();
  const d = await startDaemon(rulesFile(vip, [{ port: a.port! }, { port: b.port! }], extra, sched), args);
  cleanups.push(() => d.stop());
  return { a, b, vip, d };
}

async function snapshot(d: RunningDaemon) {
  const c = await connectControl(d.control);
  const s = parseSnapshot(await c.call("snapshot", {}));
  c.close();
  return s;
}

describe("uvs run", () => {
  test("connections are spread as the scheduler says (rr alternates over real connections)", async () => {
    const { vip } = await setup();
    const names: string[] = [];
    for (let i = 0; i < 6; i++) names.push(bodyOf(await httpGet(vip)));
    expect(names).toEqual(["b", "a", "b", "a", "b", "a"]);
  });

  test("ipvsadm -Ln and -Lnc show the live table and entries with their states", async () => {
    const { vip, a, d } = await setup();
    await httpGet(vip);
    // Hold one connection open: it shows as ESTABLISHED and counts in ActiveConn.
    const held = await Bun.connect({ hostname: "127.0.0.1", port: vip, socket: { data() {} } });
    cleanups.push(() => held.end());
    await until(
      async () => (await d.ipvsadm("-Lnc")).stdout.includes("ESTABLISHED"),
      3000,
      "an ESTABLISHED entry",
    );
    const lnc = (await d.ipvsadm("-Lnc")).stdout;
    expect(lnc).toMatch(
      new RegExp(
        `TCP \\d\\d:\\d\\d  ESTABLISHED 127\\.0\\.0\\.1:\\d+ +127\\.0\\.0\\.1:${vip} +127\\.0\\.0\\.1:\\d+`,
      ),
    );
    expect(lnc).toMatch(/TIME_WAIT/);
    const ln = (await d.ipvsadm("-Ln")).stdout;
    expect(ln).toContain(`TCP  127.0.0.1:${vip} rr\n`);
    expect(ln).toMatch(new RegExp(`-> 127\\.0\\.0\\.1:${a.port} +Masq +1 +[01] +[01] `));
    const lines = ln.split("\n").filter((l) => l.includes("Masq"));
    const active = lines.map((l) => Number(l.trim().split(/ +/)[4]));
    expect(active.reduce((x, y) => x + y, 0)).toBe(1);
  });

  test("weight 0 through ipvsadm drains a real server and is written back to the rules file", async () => {
    const { vip, a, d } = await setup();
    const r = await d.ipvsadm("-e", "-t", `127.0.0.1:${vip}`, "-r", `127.0.0.1:${a.port}`, "-m", "-w", "0");
    expect([r.code, r.stderr]).toEqual([0, ""]);
    for (let i = 0; i < 4; i++) expect(bodyOf(await httpGet(vip))).toBe("b");
    const text = readFileSync(d.rules, "utf8");
    expect(text).toContain("# test rules");
    const c = await connectControl(d.control);
    const { events } = await c.call("events", {});
    c.close();
    expect(events.map((e) => e.msg)).toContain("change from the control socket");
    expect(events.at(-1)!.seq).toBeGreaterThan(events[0].seq);
    expect(text).toMatch(new RegExp(`real_server 127\\.0\\.0\\.1 ${a.port} \\{\\n\\s+weight 0\\n`));
  });

  test("the uvs command itself (uvs --control S -Ln, UVS_CONTROL=S uvs -a …) talks to the daemon", async () => {
    const { vip, a, d } = await setup();
    const ln = Bun.spawnSync([process.execPath, MAIN, "--control", d.control, "-Ln"]);
    expect([ln.exitCode, ln.stderr.toString()]).toEqual([0, ""]);
    expect(ln.stdout.toString()).toContain(`TCP  127.0.0.1:${vip} rr\n`);
    const e = Bun.spawnSync(
      [process.execPath, MAIN, "-e", "-t", `127.0.0.1:${vip}`, "-r", `127.0.0.1:${a.port}`, "-m", "-w", "4"],
      {
        env: { ...process.env, UVS_CONTROL: d.control, UVS_STATE: "" },
      },
    );
    expect([e.exitCode, e.stderr.toString()]).toEqual([0, ""]);
    expect((await snapshot(d)).services[0].destinations.find((x) => x.port === a.port)!.weight).toBe(4);
  });

  test("-Z and --set act on the live table (and are not rules-file configuration)", async () => {
    const { vip, d } = await setup();
    await httpGet(vip);
    expect((await snapshot(d)).services[0].stats.conns).toBe(1n);
    expect((await d.ipvsadm("-Z")).code).toBe(0);
    expect((await snapshot(d)).services[0].stats.conns).toBe(0n);
    expect((await d.ipvsadm("--set", "100", "0", "20")).code).toBe(0);
    expect((await d.ipvsadm("-L", "--timeout")).stdout).toBe("Timeout (tcp tcpfin udp): 100 120 20\n");
    expect(readFileSync(d.rules, "utf8")).not.toContain("100");
  });

  test("DR real servers are refused on the proxy plane with a message naming the packet plane", async () => {
    const { vip, d } = await setup();
    const r = await d.ipvsadm("-a", "-t", `127.0.0.1:${vip}`, "-r", "127.0.0.1:1");
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("packet data plane");
  });

  test("a CLI change the proxy plane cannot serve (fwmark, no proxy_listen) is logged once as a warning", async () => {
    const { d } = await setup();
    const before = d.output();
    expect((await d.ipvsadm("-A", "-f", "5", "-s", "rr")).code).toBe(0);
    const added = () => d.output().slice(before.length);
    await until(() => added().includes("change from the control socket"), 3000, "the change's log line");
    expect(added()).toMatch(
      /warning .*: warning: no proxy_listen for fwmark 5: the proxy plane will not listen for it\n/,
    );
    // Warnings the file already had are not repeated at every change.
    expect((await d.ipvsadm("-E", "-f", "5", "-s", "wlc")).code).toBe(0);
    await until(() => added().split("op=edit-service").length === 2, 3000, "the second change");
    expect(added().split("no proxy_listen for fwmark 5").length).toBe(2);
  });

  test("a second uvs run on the same control socket says so and nothing else, and the first keeps serving", async () => {
    const { vip, d } = await setup();
    const r = Bun.spawnSync([process.execPath, MAIN, "run", "--rules", d.rules, "--control", d.control]);
    expect(r.exitCode).toBe(1);
    // It stops before binding anything: no EADDRINUSE lines, no rules applied.
    expect(r.stderr.toString()).toBe(`error another uvs daemon is answering on ${d.control}\n`);
    expect(r.stdout.toString()).toBe("");
    expect(bodyOf(await httpGet(vip))).toMatch(/^[ab]$/);
    expect((await d.ipvsadm("-Ln")).code).toBe(0);
  });

  test("a malformed op over the control socket is refused naming the field; the table is untouched", async () => {
    const { vip, d } = await setup();
    const c = await connectControl(d.control);
    try {
      // Typed as what a foreign client might send, not what ours can.
      const send = (op: unknown) => c.call("apply", { op: op as DirectorOp });
      await expect(send({ op: "add-service" })).rejects.toThrow("bad op: service: expected an object");
      await expect(
        send({ op: "delete-service", service: { kind: "addr", af: "inet", protocol: "tcp", port: vip } }),
      ).rejects.toThrow("bad op: service.addr: expected an object");
    } finally {
      c.close();
    }
    expect((await snapshot(d)).services.length).toBe(1);
  });

  test("a change to the rules file applies within 1 s and keeps counters of what did not change", async () => {
    const { vip, a, b, d } = await setup();
    for (let i = 0; i < 4; i++) await httpGet(vip);
    const c = namedServer("c");
    cleanups.push(() => c.stop(true));
    writeFileSync(d.rules, rulesFile(vip, [{ port: a.port! }, { port: b.port! }, { port: c.port! }]));
    const t0 = Date.now();
    await until(
      async () => (await snapshot(d)).services[0].destinations.length === 3,
      1500,
      "the new real server",
    );
    expect(Date.now() - t0).toBeLessThan(1500);
    const s = await snapshot(d);
    expect(s.services[0].stats.conns).toBe(4n);
    const names = new Set<string>();
    for (let i = 0; i < 6; i++) names.add(bodyOf(await httpGet(vip)));
    expect(names).toEqual(new Set(["a", "b", "c"]));
  });

  test("included files are watched too: an edit, a new file in the glob's folder, a removal; CLI write-back does not echo", async () => {
    const a = namedServer("a");
    cleanups.push(() => a.stop(true));
    const vip = await freePort();
    // The folder does not exist yet: the include matches nothing (a warning) until it does.
    const d = await startDaemon("# main\ninclude conf.d/*.conf\n");
    cleanups.push(() => d.stop());
    const conf = join(d.dir, "conf.d");
    const svc = (w: number) =>
      `virtual_server 127.0.0.1 ${vip} {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 127.0.0.1 ${a.port} {\n        weight ${w}\n    }\n}\n`;
    const weight = async () => (await snapshot(d)).services[0]?.destinations[0]?.weight;
    mkdirSync(conf);
    writeFileSync(join(conf, "web.conf"), svc(2));
    await until(async () => (await weight()) === 2, 2500, "the service of a file new in the include folder");
    expect(bodyOf(await httpGet(vip))).toBe("a");
    writeFileSync(join(conf, "web.conf"), svc(4));
    await until(async () => (await weight()) === 4, 2500, "the edit of the included file");
    // A CLI change is written to the included file, and reading it back is not a reload.
    const reloads = () => d.output().split("cause=watch").length - 1;
    const before = reloads();
    expect(
      (await d.ipvsadm("-e", "-t", `127.0.0.1:${vip}`, "-r", `127.0.0.1:${a.port}`, "-m", "-w", "6")).code,
    ).toBe(0);
    expect(readFileSync(join(conf, "web.conf"), "utf8")).toContain("weight 6");
    await Bun.sleep(1200);
    expect(reloads()).toBe(before);
    rmSync(join(conf, "web.conf"));
    await until(async () => (await snapshot(d)).services.length === 0, 2500, "the removal");
  });

  test("an invalid rules file is refused with its position and the old configuration keeps serving", async () => {
    const { vip, d } = await setup();
    writeFileSync(d.rules, "virtual_server 127.0.0.1 80 {\n    lvs_shed rr\n}\n");
    await until(() => d.output().includes("rules file refused"), 3000, "the refusal");
    expect(d.output()).toContain("uvs.conf:2:5: error:");
    expect(["a", "b"]).toContain(bodyOf(await httpGet(vip)));
    expect((await snapshot(d)).services[0].port).toBe(vip);
  });

  test("with --no-watch, uvs reload --dry-run prints the plan, uvs reload applies it", async () => {
    const { vip, a, b, d } = await setup("", "rr", ["--no-watch"]);
    writeFileSync(d.rules, rulesFile(vip, [{ port: a.port! }]));
    await Bun.sleep(700); // longer than the watcher's poll: nothing may happen by itself
    expect((await snapshot(d)).services[0].destinations.length).toBe(2);
    const dry = Bun.spawnSync([process.execPath, MAIN, "--control", d.control, "reload", "--dry-run"]);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout.toString()).toContain(`127.0.0.1:${b.port}`);
    expect((await snapshot(d)).services[0].destinations.length).toBe(2);
    const real = Bun.spawnSync([process.execPath, MAIN, "--control", d.control, "reload"]);
    expect(real.exitCode).toBe(0);
    expect(real.stdout.toString()).toBe("reloaded (1 change)\n");
    expect((await snapshot(d)).services[0].destinations.map((x) => x.port)).toEqual([a.port!]);
    const again = Bun.spawnSync([process.execPath, MAIN, "--control", d.control, "reload"]);
    expect(again.stdout.toString()).toBe("reloaded: no changes\n");
  });

  test("an emptied rules file (a tool writing in place) is not applied by the watcher; uvs reload applies it", async () => {
    const { d } = await setup();
    writeFileSync(d.rules, "");
    await until(() => d.output().includes("the rules file is empty: not applied"), 3000, "the warning");
    await Bun.sleep(700);
    expect((await snapshot(d)).services.length).toBe(1);
    expect(d.output().split("the rules file is empty").length).toBe(2); // once
    const r = Bun.spawnSync([process.execPath, MAIN, "--control", d.control, "reload"]);
    expect([r.exitCode, r.stdout.toString()]).toEqual([0, "reloaded (1 change)\n"]);
    expect((await snapshot(d)).services.length).toBe(0);
  });

  test("a rules file moved away: SIGHUP and uvs reload keep the running table, and say why", async () => {
    const { vip, d } = await setup();
    renameSync(d.rules, `${d.rules}.moved`);
    d.proc.kill("SIGHUP");
    await until(
      () => d.output().includes("does not exist: the running configuration stays"),
      3000,
      "the error",
    );
    const r = Bun.spawnSync([process.execPath, MAIN, "--control", d.control, "reload"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toBe(
      `rules file ${d.rules} does not exist: the running configuration stays\n`,
    );
    expect((await snapshot(d)).services[0].destinations.length).toBe(2);
    expect(bodyOf(await httpGet(vip))).toMatch(/^[ab]$/);
    renameSync(`${d.rules}.moved`, d.rules);
    const back = Bun.spawnSync([process.execPath, MAIN, "--control", d.control, "reload"]);
    expect([back.exitCode, back.stdout.toString()]).toEqual([0, "reloaded: no changes\n"]);
  });
});
