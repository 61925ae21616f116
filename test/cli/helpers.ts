/** Shared helpers for the ipvsadm CLI tests: fixtures, a memory backend, a run wrapper. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { NameDb } from "../../src/cli/ipvsadm/names.ts";
import { type IpvsadmResult, runIpvsadm } from "../../src/cli/ipvsadm/run.ts";
import { createMemoryBackend } from "../../src/director/offline-backend.ts";
import { emptySnapshot, parseSnapshot, type Snapshot } from "../../src/model/snapshot.ts";

export const FIXTURES = join(import.meta.dir, "../../fixtures/ipvsadm");

export interface CommandCase {
  file: string;
  argv: string[];
  exit_code: number;
  stderr: string;
  environment_dependent?: string;
}

export interface ErrorCase {
  id: string;
  argv: string[];
  table: string;
  stdin: string | null;
  environment: string | null;
  stdout: string;
  stderr: string;
  exit_code: number;
  origin: string;
}

export function scenarioDirs(): string[] {
  return readdirSync(FIXTURES)
    .filter((d) => statSync(join(FIXTURES, d)).isDirectory() && d !== "errors_tables")
    .sort();
}

export function loadSnapshot(path: string): Snapshot {
  return parseSnapshot(readFileSync(path, "utf8"));
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

export interface RunOptions {
  stdin?: string;
  names?: NameDb;
  /** make openBackend() fail with this message */
  initError?: string;
}

/** Run `ipvsadm args…` against a copy of `snap` held in a memory backend. */
export function run(snap: Snapshot | null, args: string[], opts: RunOptions = {}): Promise<IpvsadmResult> {
  return runIpvsadm(args, {
    argv0: "ipvsadm",
    readStdin: async () => opts.stdin ?? "",
    openBackend: async () => {
      if (opts.initError) throw new Error(opts.initError);
      return createMemoryBackend(structuredClone(snap ?? emptySnapshot()));
    },
    names: opts.names,
  });
}

/** Run several commands against one shared backend (the table changes between them). */
export function sharedBackend(snap: Snapshot | null, names?: NameDb) {
  const backend = createMemoryBackend(structuredClone(snap ?? emptySnapshot()));
  return (args: string[], stdin = "") =>
    runIpvsadm(args, {
      argv0: "ipvsadm",
      readStdin: async () => stdin,
      openBackend: async () => backend,
      names,
    });
}
