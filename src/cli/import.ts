/**
 * `uvs import ldirectord FILE` and `uvs import ipvsadm` (save format on stdin): print the
 * equivalent keepalived-syntax rules file on stdout; warnings and errors on stderr. Exit 0, or 1
 * when the input has errors (nothing is printed then), 2 on a usage error.
 */
import { readFileSync } from "node:fs";
import { importIpvsadm } from "../import/ipvsadm.ts";
import { type ImportResult, importLdirectord } from "../import/ldirectord.ts";

export const IMPORT_USAGE =
  "usage: uvs import ldirectord FILE\n       uvs import ipvsadm < ipvsadm-save-output\n";

export interface ImportIo {
  stdout(t: string): void;
  stderr(t: string): void;
  readStdin(): Promise<string>;
  readFile(path: string): string;
}

const processIo: ImportIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: () => Bun.stdin.text(),
  readFile: (p) => readFileSync(p, "utf8"),
};

function emit(r: ImportResult, io: ImportIo, cmd: string): number {
  for (const w of r.warnings) io.stderr(`uvs import ${cmd}: warning: ${w}\n`);
  for (const e of r.errors) io.stderr(`uvs import ${cmd}: error: ${e}\n`);
  if (r.errors.length) return 1;
  io.stdout(r.text);
  return 0;
}

export async function runImportCli(args: string[], io: ImportIo = processIo): Promise<number> {
  const [kind, ...rest] = args;
  if (kind === "ldirectord" && rest.length === 1) {
    let text: string;
    try {
      text = io.readFile(rest[0]);
    } catch (e) {
      io.stderr(`uvs import ldirectord: cannot read ${rest[0]}: ${(e as Error).message}\n`);
      return 1;
    }
    return emit(importLdirectord(text, rest[0]), io, "ldirectord");
  }
  if (kind === "ipvsadm" && rest.length === 0)
    return emit(importIpvsadm(await io.readStdin()), io, "ipvsadm");
  io.stderr(IMPORT_USAGE);
  return 2;
}
