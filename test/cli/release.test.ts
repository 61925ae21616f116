import { expect, test } from "bun:test";
import { runIpvsadm } from "../../src/cli/ipvsadm/run.ts";
import type { DirectorBackend } from "../../src/director/api.ts";
import { createMemoryBackend } from "../../src/director/offline-backend.ts";
import { emptySnapshot } from "../../src/model/snapshot.ts";

/** A backend that counts how often it was released (the daemon backend closes its socket there). */
function counting(): DirectorBackend & { closed: number } {
  const inner = createMemoryBackend(emptySnapshot());
  const b = { ...inner, closed: 0, close: () => void b.closed++ };
  b.snapshot = () => inner.snapshot();
  b.apply = (op) => inner.apply(op);
  b.commit = () => inner.commit();
  return b;
}

test("runIpvsadm releases the backend it opened, also after a refused change", async () => {
  const b = counting();
  const io = { argv0: "ipvsadm", readStdin: async () => "", openBackend: async () => b };
  await runIpvsadm(["-A", "-t", "192.0.2.1:80", "-s", "rr"], io);
  expect(b.closed).toBe(1);
  const r = await runIpvsadm(["-A", "-t", "192.0.2.1:80", "-s", "rr"], io);
  expect(r.stderr).toBe("Service already exists\n");
  expect(b.closed).toBe(2);
  await runIpvsadm(["-h"], io); // needs no backend: nothing to release
  expect(b.closed).toBe(2);
});
