/**
 * A lab's state on disk, so `uvs lab down|status` in another process finds what `up` started:
 * /run/uvs-lab/<prefix>.json with the kind and the pids of the real servers' HTTP servers, and
 * their log and output files next to it.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.ts";
import type { LabKind, Role } from "./topology.ts";
import { isLabKind } from "./topology.ts";

export const LAB_STATE_DIR = process.env.UVS_LAB_DIR || "/run/uvs-lab";

export interface LabState {
  kind: LabKind;
  prefix: string;
  /** Role → pid of the HTTP server started in that namespace. */
  pids: Partial<Record<Role, number>>;
  /** Problems that did not stop the lab (e.g. tunl0 missing on a kernel without IPIP). */
  warnings: string[];
}

export function statePath(prefix: string): string {
  return join(LAB_STATE_DIR, `${prefix}.json`);
}

/** A rules file for uvs in the director (keepalived syntax), written by up. */
export function rulesPath(prefix: string): string {
  return join(LAB_STATE_DIR, `${prefix}.conf`);
}

/** The HTTP server log of a real server: one line per request with the client's address. */
export function logPath(prefix: string, role: Role): string {
  return join(LAB_STATE_DIR, `${prefix}-${role}.log`);
}

/** stdout/stderr of a process the lab started (for errors and readiness). */
export function outPath(prefix: string, role: Role): string {
  return join(LAB_STATE_DIR, `${prefix}-${role}.out`);
}

export function ensureStateDir(): void {
  mkdirSync(LAB_STATE_DIR, { recursive: true });
}

export function writeState(s: LabState): void {
  ensureStateDir();
  writeFileAtomic(statePath(s.prefix), `${JSON.stringify(s, null, 2)}\n`);
}

export function readState(prefix: string): LabState | undefined {
  try {
    const s = JSON.parse(readFileSync(statePath(prefix), "utf8")) as Partial<LabState>;
    if (!s || typeof s.kind !== "string" || !isLabKind(s.kind) || s.prefix !== prefix) return undefined;
    return { kind: s.kind, prefix, pids: s.pids ?? {}, warnings: s.warnings ?? [] };
  } catch {
    return undefined;
  }
}

/** Remove the state file and every log/output file of the prefix's roles. */
export function removeStateFiles(prefix: string, roles: readonly Role[]): void {
  rmSync(statePath(prefix), { force: true });
  rmSync(rulesPath(prefix), { force: true });
  for (const r of roles) {
    rmSync(logPath(prefix, r), { force: true });
    rmSync(outPath(prefix, r), { force: true });
  }
}
