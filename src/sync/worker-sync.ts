/**
 * Sync daemons on the packet plane: they run in the packet worker, on the Director that carries
 * traffic (a master there sees every incoming packet; a backup's entries land in the table the
 * worker forwards from). The worker applies a batch of ops, then calls this: when the batch
 * started or stopped a daemon, the runner follows the director's daemon state and a start that
 * failed reports why in that op's result (as `--start-daemon` does on the proxy plane).
 */
import type { DirectorOp, OpResult } from "../director/api.ts";
import type { SyncDaemons } from "./daemon.ts";

export async function followDaemonOps(
  sync: SyncDaemons,
  ops: readonly DirectorOp[],
  results: OpResult[],
): Promise<OpResult[]> {
  let last = -1;
  for (let i = 0; i < ops.length; i++)
    if ((ops[i].op === "start-daemon" || ops[i].op === "stop-daemon") && results[i]?.ok) last = i;
  if (last < 0) return results;
  const r = await sync.update();
  if (!r.ok) results[last] = r;
  return results;
}
