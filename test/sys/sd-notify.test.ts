/**
 * sd_notify through libc: a python3 receiver stands in for systemd's notify socket (Bun itself has
 * no Unix datagram sockets to receive with).
 */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sdNotify, watchdogIntervalMs } from "../../src/sys/sd-notify.ts";

const RECEIVER = `
import socket, sys
p = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(p if not p.startswith("@") else "\\0" + p[1:])
print("bound", flush=True)
s.settimeout(5)
print(s.recv(4096).decode(), flush=True)
`;

const python = Bun.which("python3");

async function roundTrip(path: string, state: string): Promise<string> {
  const proc = Bun.spawn(["python3", "-c", RECEIVER, path], { stdout: "pipe" });
  const reader = proc.stdout.getReader();
  let out = "";
  while (!out.includes("bound\n")) out += new TextDecoder().decode((await reader.read()).value);
  expect(sdNotify(state, path)).toBe(true);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  await proc.exited;
  return out.replace("bound\n", "").trimEnd();
}

test.skipIf(!python)("READY=1 reaches a filesystem notify socket (needs python3)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "uvs-sd-"));
  try {
    expect(await roundTrip(join(dir, "notify"), "READY=1\nSTATUS=serving")).toBe("READY=1\nSTATUS=serving");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.skipIf(!python)("an abstract notify socket (@name) works too (needs python3)", async () => {
  expect(await roundTrip(`@uvs-test-${process.pid}`, "WATCHDOG=1")).toBe("WATCHDOG=1");
});

test("without NOTIFY_SOCKET nothing is sent", () => {
  expect(sdNotify("READY=1", undefined)).toBe(false);
});

test("watchdog interval from WATCHDOG_USEC, only for our pid", () => {
  expect(watchdogIntervalMs({ WATCHDOG_USEC: "2000000" }, 10)).toBe(2000);
  expect(watchdogIntervalMs({ WATCHDOG_USEC: "2000000", WATCHDOG_PID: "11" }, 10)).toBeNull();
  expect(watchdogIntervalMs({}, 10)).toBeNull();
});
