/**
 * End to end: the compiled binary in tmux. `uvs demo` runs the daemon; `uvs --control SOCK tui`
 * runs in a tmux pane; keys go in with send-keys, the screen comes back with capture-pane.
 * Needs tmux (Debian: apt-get install -y tmux). CI=true would switch Ink to CI rendering, so the
 * pane's environment drops it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary } from "../../scripts/build.ts";
import { connectControl } from "../../src/control/client.ts";
import { parseSnapshot } from "../../src/model/snapshot.ts";

const TMUX = Bun.which("tmux");
if (!TMUX) console.warn("e2e-tmux: skipped, tmux is not installed (apt-get install -y tmux)");

const dir = mkdtempSync(join(tmpdir(), "uvs-tui-e2e-"));
const server = `uvs-tui-${process.pid}`;
let demo: Bun.Subprocess<"ignore", "pipe", "pipe"> | null = null;

const tmux = (...args: string[]) => Bun.spawnSync([TMUX ?? "tmux", "-L", server, "-f", "/dev/null", ...args]);
const screen = () => tmux("capture-pane", "-p", "-t", "t").stdout.toString();
const keys = (...k: string[]) => tmux("send-keys", "-t", "t", ...k);

async function until(pred: (s: string) => boolean, what: string, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const s = screen();
    if (pred(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; screen:\n${s}`);
    await Bun.sleep(100);
  }
}

function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = l.port;
  l.stop(true);
  return p;
}

let bin = "";
beforeAll(async () => {
  if (!TMUX) return;
  bin = await buildBinary({ outfile: join(dir, "uvs") });
}, 120_000);

afterAll(async () => {
  if (TMUX) tmux("kill-server");
  if (demo) {
    demo.kill("SIGINT");
    await demo.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

test.skipIf(!TMUX)(
  "uvs tui in tmux: table, connections, quiesce through the daemon, q restores the terminal",
  async () => {
    const [vip, a, b] = [freePort(), freePort(), freePort()];
    demo = Bun.spawn([bin, "demo", "--vip-port", String(vip), "--backend-ports", `${a},${b}`], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, CI: "" },
    });
    let out = "";
    const reader = demo.stdout.getReader();
    const dec = new TextDecoder();
    while (!/--control (\S+)/.test(out)) {
      const r = await reader.read();
      if (r.done) throw new Error(`uvs demo ended: ${out}${await new Response(demo.stderr).text()}`);
      out += dec.decode(r.value);
    }
    reader.releaseLock();
    const sock = /--control (\S+)/.exec(out)![1];

    const cmd = `env -u CI ${bin} --control ${sock} tui; echo EXIT=$?; sleep 60`;
    tmux("new-session", "-d", "-s", "t", "-x", "100", "-y", "30", cmd);
    await until((s) => s.includes(`127.0.0.1:${a}`) && s.includes(`127.0.0.1:${b}`), "the services table");
    expect(screen()).toContain(`TCP  127.0.0.1:${vip} rr`);
    expect(screen()).toContain("? help");
    // The whole screen is one frame: no line of an earlier frame left behind (Ink's incremental
    // mode once left the first header and the empty-table hint on screen).
    const lines = screen().split("\n");
    expect(lines.filter((l) => l.startsWith("uvs  1 Services")).length).toBe(1);
    expect(screen()).not.toContain("no virtual services");
    expect(lines).toContain("  Prot LocalAddress:Port Scheduler Flags");

    // Traffic through the VIP shows up on the Connections screen.
    for (let i = 0; i < 4; i++) await (await fetch(`http://127.0.0.1:${vip}/`)).text();
    keys("2");
    await until(
      (s) => s.includes("IPVS connection entries") && s.includes(`127.0.0.1:${vip}`),
      "connections",
    );

    // Quiesce the first real server: through the control socket, visible within a refresh.
    keys("1");
    await until((s) => s.includes("Prot LocalAddress:Port"), "the services screen again");
    keys("Down");
    await Bun.sleep(300);
    keys("x");
    const quiesced = /◐ +-> 127\.0\.0\.1:(\d+) +Masq +0 /;
    const s = await until((x) => quiesced.test(x), "a quiesced real server in the table");
    expect(s).toContain("quiesced (was weight 1)");
    const port = Number(quiesced.exec(s)![1]);
    expect([a, b]).toContain(port);
    const c = await connectControl(sock);
    const snap = parseSnapshot(await c.call("snapshot", {}));
    c.close();
    expect(snap.services[0].destinations.find((d) => d.port === port)?.weight).toBe(0);

    // q quits, leaves the alternate screen and exits 0.
    keys("q");
    const end = await until((x) => x.includes("EXIT="), "the TUI to exit");
    expect(end).toContain("EXIT=0");
    expect(end).not.toContain("Prot LocalAddress:Port");
  },
  60_000,
);
