/** ipvsadm against the running daemon, as ipvsadm talks to the kernel: over the control socket. */
import type { DirectorBackend } from "../director/api.ts";
import { parseSnapshot } from "../model/snapshot.ts";
import { connectControl } from "./client.ts";

export async function openDaemonBackend(path: string): Promise<DirectorBackend> {
  const c = await connectControl(path);
  return {
    snapshot: async () => parseSnapshot(await c.call("snapshot", {})),
    apply: (op) => c.call("apply", { op }),
    // The daemon writes accepted changes back to its rules file itself.
    commit: async () => {},
    close: () => c.close(),
  };
}
