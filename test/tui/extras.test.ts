/** The readers of snapshot fields other parts of uvs add (health as the daemon sends it). */
import { expect, test } from "bun:test";
import { healthOf, healthStateOf } from "../../tui/extras.ts";
import { smallSnapshot } from "./fixtures.ts";

test("health entries as the daemon's runner sends them; marks match the exact service", () => {
  const snap = smallSnapshot({
    health: [
      {
        service: "tcp:127.0.0.1:8080",
        server: "127.0.0.3:9002",
        checker: "TCP_CHECK",
        state: "down",
        since: 1000,
        last: { ok: false, message: "connection refused", latencyMs: 0.5, at: 2000 },
      },
    ],
  });
  const h = healthOf(snap);
  expect(h).toEqual([
    {
      service: "tcp:127.0.0.1:8080",
      server: "127.0.0.3:9002",
      checker: "TCP_CHECK",
      state: "down",
      since: 1000,
      reason: "connection refused",
      latencyMs: 0.5,
      lastAt: 2000,
    },
  ]);
  expect(healthStateOf(h, "127.0.0.1:8080", "127.0.0.3:9002")).toBe("down");
  // 127.0.0.1:80 is a prefix of 127.0.0.1:8080's text, not the same service.
  expect(healthStateOf(h, "127.0.0.1:80", "127.0.0.3:9002")).toBe("");
  expect(healthOf(smallSnapshot())).toBeNull();
});
