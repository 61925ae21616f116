/** The readers of snapshot fields other parts of uvs add (health as the daemon sends it). */
import { expect, test } from "bun:test";
import { readBenchForm } from "../../tui/bench-form.ts";
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

test("the bench form takes http and https URLs and names the field that is wrong", () => {
  const form = (url: string) => readBenchForm({ url, n: "10", c: "2", k: "no", t: "" });
  expect(form("https://127.0.0.1:8443/")).toMatchObject({ url: "https://127.0.0.1:8443/", requests: 10 });
  expect(form("http://127.0.0.1:8080/")).toMatchObject({ concurrency: 2 });
  expect(form("ftp://127.0.0.1/")).toBe("URL: only http:// and https:// are supported, not ftp://");
  expect(form("nope")).toContain("is not a URL");
});
