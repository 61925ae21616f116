import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectControl } from "../../src/control/client.ts";
import { startControlServer } from "../../src/control/server.ts";

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "uvs-ctl-"));
}

describe("control socket", () => {
  test("answers requests by id; the socket is mode 0600", async () => {
    const dir = tmp();
    const path = join(dir, "run", "uvs.sock");
    const server = await startControlServer(path, async (req) => {
      if (req.method === "ping") return { pid: 1, rules: "r", dataplane: "proxy", uptimeMs: 5 };
      throw new Error(`no method ${req.method}`);
    });
    try {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, "run")).mode & 0o777).toBe(0o700);
      const c = await connectControl(path);
      const [a, b] = await Promise.all([c.call("ping", {}), c.call("ping", {})]);
      expect(a.dataplane).toBe("proxy");
      expect(b.uptimeMs).toBe(5);
      await expect(c.call("snapshot", {})).rejects.toThrow("no method snapshot");
      c.close();
    } finally {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a large response arrives whole", async () => {
    const dir = tmp();
    const path = join(dir, "uvs.sock");
    const big = "x".repeat(8 << 20);
    const server = await startControlServer(path, async () => big);
    try {
      const c = await connectControl(path);
      expect((await c.call("snapshot", {})).length).toBe(big.length);
      c.close();
    } finally {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("malformed requests get an error line, the connection stays usable", async () => {
    const dir = tmp();
    const path = join(dir, "uvs.sock");
    const server = await startControlServer(path, async () => "pong");
    try {
      const got: string[] = [];
      const s = await Bun.connect({
        unix: path,
        socket: {
          data(_s, d) {
            got.push(...new TextDecoder().decode(d).split("\n").filter(Boolean));
          },
        },
      });
      s.write('{not json}\n{"id":7,"method":"ping","params":{}}\n');
      for (let i = 0; i < 100 && got.length < 2; i++) await Bun.sleep(10);
      expect(JSON.parse(got[0])).toMatchObject({ id: -1, ok: false });
      expect(JSON.parse(got[1])).toEqual({ id: 7, ok: true, result: "pong" });
      s.end();
    } finally {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a second daemon on the same socket is refused; a stale socket file is replaced", async () => {
    const dir = tmp();
    const path = join(dir, "uvs.sock");
    const first = await startControlServer(path, async () => 1);
    try {
      await expect(startControlServer(path, async () => 2)).rejects.toThrow("another uvs daemon");
    } finally {
      first.stop(true);
    }
    // A file nobody answers on (as left by a crash) is replaced by the next start.
    writeFileSync(path, "stale");
    const second = await startControlServer(path, async () => 3);
    try {
      const c = await connectControl(path);
      expect(await c.call("ping", {})).toBe(3 as never);
      c.close();
    } finally {
      second.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const asRoot = process.getuid?.() === 0;
  const setpriv = Bun.which("setpriv");
  const python = Bun.which("python3", { PATH: "/usr/bin:/bin" });
  test.skipIf(!asRoot || !setpriv || !python || process.platform !== "linux")(
    "a peer of another uid is refused even when the socket's mode lets it connect (needs root, setpriv, /usr/bin/python3)",
    async () => {
      const dir = tmp();
      const path = join(dir, "uvs.sock");
      let served = 0;
      const server = await startControlServer(path, async () => {
        served++;
        return "pong";
      });
      try {
        // Widen what the file mode allows, as a careless chmod would: the uid check still holds.
        chmodSync(dir, 0o755);
        chmodSync(path, 0o666);
        const client = `import socket,sys
s=socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"id":1,"method":"ping","params":{}}\\n')
print(s.makefile().readline().strip())`;
        // Spawned, not spawnSync: the server runs in this process and must answer meanwhile.
        const run = async (cmd: string[]) => {
          const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
          const out = await new Response(p.stdout).text();
          await p.exited;
          return JSON.parse(out);
        };
        const nobody = [setpriv!, "--reuid=65534", "--regid=65534", "--clear-groups"];
        expect(await run([...nobody, python!, "-c", client, path])).toEqual({
          id: -1,
          ok: false,
          error: "refused: this control socket serves uid 0 only, not uid 65534",
        });
        expect(served).toBe(0);
        // The daemon's own uid is served as before.
        expect(await run([python!, "-c", client, path])).toEqual({ id: 1, ok: true, result: "pong" });
        expect(served).toBe(1);
      } finally {
        server.stop(true);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test("connecting where no daemon runs names the socket", async () => {
    await expect(connectControl("/nonexistent/uvs.sock")).rejects.toThrow(
      "no uvs daemon answers on /nonexistent/uvs.sock",
    );
  });
});
