/** More of `uvs run` end to end: fwmark groups, UDP, PROXY protocol, drain, systemd, metrics. */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectControl } from "../../src/control/client.ts";
import { parseSnapshot } from "../../src/model/snapshot.ts";
import { bodyOf, freePort, httpGet, MAIN, namedServer, startDaemon, until } from "../helpers/daemon.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test("persistence holds across the ports of a firewall-mark group", async () => {
  // As in the kernel, a persistent fwmark service connects to the client's destination port on
  // the chosen real server: each real server (its own loopback address) serves both ports.
  const [p1, p2] = [await freePort(), await freePort()];
  for (const [host, name] of [
    ["127.0.0.3", "a"],
    ["127.0.0.4", "b"],
  ]) {
    for (const port of [p1, p2]) {
      const s = Bun.serve({ hostname: host, port, fetch: () => new Response(`${name}\n`) });
      cleanups.push(() => s.stop(true));
    }
  }
  const rules = `virtual_server fwmark 7 {
    lvs_sched rr
    lvs_method NAT
    persistence_timeout 300
    proxy_listen 127.0.0.2 ${p1},${p2} tcp
    real_server 127.0.0.3 {
    }
    real_server 127.0.0.4 {
    }
}
`;
  const d = await startDaemon(rules);
  cleanups.push(() => d.stop());
  const first = bodyOf(await httpGet(p1, "127.0.0.2"));
  for (let i = 0; i < 3; i++) {
    expect(bodyOf(await httpGet(p2, "127.0.0.2"))).toBe(first);
    expect(bodyOf(await httpGet(p1, "127.0.0.2"))).toBe(first);
  }
  const lnc = (await d.ipvsadm("-Lnc")).stdout;
  expect(lnc).toMatch(/\nIP +\d\d:\d\d +NONE +127\.0\.0\.1:0 +0\.0\.0\.7:0 +127\.0\.0\.[34]:0\n/);
});

test("UDP is forwarded and the answer comes back from the VIP", async () => {
  const echo = await Bun.udpSocket({
    hostname: "127.0.0.1",
    socket: {
      data(sock, buf, port, addr) {
        sock.send(`echo:${buf.toString()}`, port, addr);
      },
    },
  });
  cleanups.push(() => echo.close());
  const vip = await freePort();
  const rules = `virtual_server 127.0.0.1 ${vip} {
    lvs_sched rr
    lvs_method NAT
    protocol UDP
    real_server 127.0.0.1 ${echo.port} {
        weight 1
    }
}
`;
  const d = await startDaemon(rules);
  cleanups.push(() => d.stop());
  const replies: { text: string; port: number }[] = [];
  const client = await Bun.udpSocket({
    hostname: "127.0.0.1",
    socket: {
      data(_s, buf, port) {
        replies.push({ text: buf.toString(), port });
      },
    },
  });
  cleanups.push(() => client.close());
  client.send("ping", vip, "127.0.0.1");
  await until(() => replies.length > 0, 3000, "a UDP reply");
  expect(replies[0]).toEqual({ text: "echo:ping", port: vip });
  expect((await d.ipvsadm("-Lnc")).stdout).toMatch(/\nUDP +0[45]:\d\d +UDP /);
});

test("the PROXY protocol v1 line reaches the real server before the client's bytes", async () => {
  let got = "";
  const backend = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(s, d) {
        got += d.toString();
        if (got.includes("\r\n\r\n"))
          s.end("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\npp\n");
      },
    },
  });
  cleanups.push(() => backend.stop(true));
  const vip = await freePort();
  const rules = `virtual_server 127.0.0.1 ${vip} {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 ${backend.port} {
        proxy_protocol v1
    }
}
`;
  const d = await startDaemon(rules);
  cleanups.push(() => d.stop());
  expect(bodyOf(await httpGet(vip))).toBe("pp");
  expect(got).toMatch(
    new RegExp(`^PROXY TCP4 127\\.0\\.0\\.1 127\\.0\\.0\\.1 \\d+ ${vip}\\r\\nGET / HTTP/1\\.1\\r\\n`),
  );
});

test("SIGTERM drains: open connections may finish, then the daemon exits 0", async () => {
  const a = namedServer("a");
  cleanups.push(() => a.stop(true));
  const vip = await freePort();
  const d = await startDaemon(
    `virtual_server 127.0.0.1 ${vip} {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 127.0.0.1 ${a.port} {\n    }\n}\n`,
  );
  cleanups.push(() => d.stop());
  let answer = "";
  const held = await Bun.connect({
    hostname: "127.0.0.1",
    port: vip,
    socket: {
      data(_s, x) {
        answer += x.toString();
      },
    },
  });
  await until(
    async () => (await d.ipvsadm("-Lnc")).stdout.includes("ESTABLISHED"),
    3000,
    "the held connection",
  );
  d.proc.kill("SIGTERM");
  await Bun.sleep(300);
  expect(d.proc.exitCode).toBeNull(); // still draining
  await expect(httpGet(vip)).rejects.toThrow(); // no longer accepting
  held.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  await until(() => answer.includes("\r\n\r\na"), 3000, "the answer on the held connection");
  expect(await d.proc.exited).toBe(0);
  expect(d.output()).toContain("stopped");
});

const python = Bun.which("python3");
test.skipIf(!python)(
  "READY=1 reaches systemd's notify socket once listeners are up (needs python3)",
  async () => {
    const sock = `@uvs-e2e-notify-${process.pid}`;
    const recv = Bun.spawn(
      [
        "python3",
        "-c",
        `import socket\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind("\\0${sock.slice(1)}")\nprint("bound",flush=True)\ns.settimeout(10)\nprint(s.recv(4096).decode(),flush=True)`,
      ],
      { stdout: "pipe" },
    );
    cleanups.push(() => recv.kill());
    const reader = recv.stdout.getReader();
    let out = "";
    while (!out.includes("bound")) out += new TextDecoder().decode((await reader.read()).value);
    const d = await startDaemon("", [], { NOTIFY_SOCKET: sock });
    cleanups.push(() => d.stop());
    while (!out.includes("READY=1")) {
      const r = await reader.read();
      if (r.done) break;
      out += new TextDecoder().decode(r.value);
    }
    expect(out).toContain("READY=1");
    expect(out).toContain(`MAINPID=${d.proc.pid}`);
  },
);

test("metrics in node_exporter's ipvs names, snapshot over the socket, and a missing rules file starts empty", async () => {
  const a = namedServer("a");
  cleanups.push(() => a.stop(true));
  const vip = await freePort();
  const mport = await freePort();
  const d = await startDaemon("", ["--metrics", `127.0.0.1:${mport}`]);
  cleanups.push(() => d.stop());
  // The file was empty: add a service through ipvsadm; it is written back in keepalived syntax.
  expect((await d.ipvsadm("-A", "-t", `127.0.0.1:${vip}`, "-s", "rr")).code).toBe(0);
  expect((await d.ipvsadm("-a", "-t", `127.0.0.1:${vip}`, "-r", `127.0.0.1:${a.port}`, "-m")).code).toBe(0);
  await until(
    async () => {
      try {
        return bodyOf(await httpGet(vip)) === "a";
      } catch {
        return false;
      }
    },
    3000,
    "the new service to answer",
  );
  const m = await (await fetch(`http://127.0.0.1:${mport}/metrics`)).text();
  expect(m).toContain("# TYPE node_ipvs_connections_total counter");
  expect(m).toMatch(/node_ipvs_connections_total [1-9]/);
  expect(m).toContain(
    `node_ipvs_backend_weight{local_address="127.0.0.1",local_port="${vip}",local_mark="",proto="TCP",remote_address="127.0.0.1",remote_port="${a.port}"} 1`,
  );
  const snap = Bun.spawnSync([process.execPath, MAIN, "--control", d.control, "snapshot"]);
  expect(parseSnapshot(snap.stdout.toString()).services[0].destinations[0].port).toBe(a.port!);
  const c = await connectControl(d.control);
  expect((await c.call("ping", {})).dataplane).toBe("proxy");
  c.close();
});

test.skipIf(!Bun.which("prlimit"))(
  "out of file descriptors: the daemon stops accepting, logs it, and resumes when they free up (needs prlimit)",
  async () => {
    const a = namedServer("a");
    cleanups.push(() => a.stop(true));
    const vip = await freePort();
    const rules = `virtual_server 127.0.0.1 ${vip} {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 127.0.0.1 ${a.port} {\n    }\n}\n`;
    const d = await startDaemon(rules);
    cleanups.push(() => d.stop());
    // Lower the running daemon's limit (Bun raises RLIMIT_NOFILE at start, so ulimit before exec
    // does not stick).
    expect(Bun.spawnSync(["prlimit", "--pid", String(d.proc.pid), "--nofile=80:80"]).exitCode).toBe(0);
    const held: { end(): void }[] = [];
    for (let i = 0; i < 120; i++) {
      try {
        held.push(await Bun.connect({ hostname: "127.0.0.1", port: vip, socket: { data() {}, error() {} } }));
      } catch {}
    }
    await until(() => d.output().includes("out of file descriptors"), 5000, "the exhaustion warning");
    expect(d.proc.exitCode).toBeNull();
    for (const s of held) s.end();
    await until(() => d.output().includes("file descriptors available again"), 5000, "the recovery");
    expect(bodyOf(await httpGet(vip))).toBe("a");
    // The shortage was ours: the real server is not blamed for it.
    expect(d.output()).not.toContain("real server connect failed");
  },
);

test("an invalid rules file at start: exit 1, each error on its own line with its level and position", () => {
  const dir = mkdtempSync(join(tmpdir(), "uvs-bad-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "uvs.conf");
  writeFileSync(file, "virtual_server 127.0.0.1 80 {\n    lb_algo bogus\n    protocol SCTPX\n}\n");
  const r = Bun.spawnSync(
    [process.execPath, MAIN, "run", "--rules", file, "--control", join(dir, "s.sock")],
    {
      env: { ...process.env, JOURNAL_STREAM: "" },
    },
  );
  expect(r.exitCode).toBe(1);
  const lines = r.stderr.toString().trimEnd().split("\n");
  // journald takes a line without a level as plain notice: every line has one.
  for (const l of lines) expect(l).toMatch(/^(error|warning) /);
  expect(lines).toContain(`error ${file}:2:13: error: unknown scheduler 'bogus'`);
  expect(lines.some((l) => l.includes(`${file}:3:14:`) && l.includes("SCTPX"))).toBe(true);
  expect(lines.at(-1)).toBe(`error rules file ${file} cannot be used: 2 errors, logged above`);
});
