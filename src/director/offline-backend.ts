/**
 * ipvsadm against a state snapshot instead of a running daemon: listings render the file's
 * state; changes are checked as the kernel checks them and, once the command succeeded, the
 * file is replaced atomically.
 */
import { readFileSync } from "node:fs";
import { emptySnapshot, parseSnapshot, type Snapshot } from "../model/snapshot.ts";
import { writeFileAtomic } from "../util/atomic-write.ts";
import { stringifyJsonBig } from "../util/json-big.ts";
import type { DirectorBackend, DirectorOp, OpResult } from "./api.ts";
import type { Director } from "./director.ts";
import { directorFromSnapshot, directorToSnapshot } from "./snapshot-io.ts";

class SnapshotBackend implements DirectorBackend {
  private dirty = false;
  constructor(
    private readonly director: Director,
    private readonly path: string | null,
  ) {}

  async snapshot(): Promise<Snapshot> {
    return directorToSnapshot(this.director);
  }

  async apply(op: DirectorOp): Promise<OpResult> {
    const r = this.director.apply(op);
    if (r.ok) this.dirty = true;
    return r;
  }

  async commit(): Promise<void> {
    if (!this.dirty || this.path === null) return;
    writeFileAtomic(this.path, `${stringifyJsonBig(directorToSnapshot(this.director))}\n`);
    this.dirty = false;
  }
}

/** A backend over an in-memory snapshot (tests, or a state piped in). */
export function createMemoryBackend(snapshot: Snapshot): DirectorBackend {
  return new SnapshotBackend(directorFromSnapshot(snapshot), null);
}

export class StateFileError extends Error {
  override name = "StateFileError";
}

/** Read a snapshot file; a file that does not exist yet is an empty table. */
export function readStateFile(path: string): Snapshot {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return emptySnapshot();
    throw new StateFileError(`cannot read state file ${path}: ${(e as Error).message}`);
  }
  try {
    return parseSnapshot(text);
  } catch (e) {
    throw new StateFileError(`state file ${path}: ${(e as Error).message}`);
  }
}

/** A backend over the snapshot file at `path`, written back atomically on commit. */
export async function openOfflineBackend(path: string): Promise<DirectorBackend> {
  return new SnapshotBackend(directorFromSnapshot(readStateFile(path)), path);
}
