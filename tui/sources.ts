/**
 * The two data sources of the TUI: the running daemon (control socket) and a state snapshot file.
 * Changes go through ipvsadm's own command runner, so forms fail with the CLI's messages.
 */
import { runIpvsadm } from "../src/cli/ipvsadm/run.ts";
import { openDaemonBackend } from "../src/control/backend.ts";
import { type ControlClient, connectControl } from "../src/control/client.ts";
import { openOfflineBackend, readStateFile } from "../src/director/offline-backend.ts";
import { parseSnapshot } from "../src/model/snapshot.ts";
import type { DataSource } from "./types.ts";

const noStdin = async () => "";

/** A source over the daemon at `path`; reconnects on the next call after the socket closed. */
export function daemonSource(path: string): DataSource {
  let client: Promise<ControlClient> | null = null;
  const conn = () => {
    client ??= connectControl(path);
    return client;
  };
  // A failed call may mean a dead connection: drop it so the next poll dials again.
  const call = async <T>(f: (c: ControlClient) => Promise<T>): Promise<T> => {
    try {
      return await f(await conn());
    } catch (e) {
      const c = client;
      client = null;
      c?.then((x) => x.close()).catch(() => {});
      throw e;
    }
  };
  return {
    label: `daemon ${path}`,
    snapshot: (opts) =>
      call(async (c) => parseSnapshot(await c.call("snapshot", { connections: opts?.connections ?? true }))),
    events: (since) => call(async (c) => (await c.call("events", { since })).events),
    ipvsadm: (argv) =>
      runIpvsadm(argv, { argv0: "ipvsadm", readStdin: noStdin, openBackend: () => openDaemonBackend(path) }),
    close() {
      client?.then((c) => c.close()).catch(() => {});
      client = null;
    },
  };
}

/** A source over a uvs-state/1 file: re-read on every refresh, written back by ipvsadm changes. */
export function stateFileSource(path: string): DataSource {
  return {
    label: `state ${path}`,
    snapshot: async () => readStateFile(path),
    events: null,
    ipvsadm: (argv) =>
      runIpvsadm(argv, { argv0: "ipvsadm", readStdin: noStdin, openBackend: () => openOfflineBackend(path) }),
    close() {},
  };
}
