/**
 * loadRules: read a rules file (and its includes), detect its dialect, parse and check it. The
 * only module here that touches the disk, through an injectable reader.
 */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { NameDb } from "../cli/ipvsadm/names.ts";
import { makeNameDb, systemNameDb } from "../cli/ipvsadm/names.ts";
import { detectDialect } from "./detect.ts";
import { IncludeExpander, type RulesReader } from "./include.ts";
import { parseIpvsadmRules } from "./ipvsadm-dialect.ts";
import { analyzeKeepalived } from "./keepalived.ts";
import { type Diagnostic, Diagnostics, posOf, type RulesConfig, sortDiagnostics } from "./model.ts";

export type { RulesReader } from "./include.ts";

export interface LoadResult {
  /** null when any error was reported: nothing of it may be applied. */
  config: RulesConfig | null;
  diagnostics: Diagnostic[];
  /** The text of every file read, by path (write-back needs the originals). */
  texts: Map<string, string>;
  /** Folders where a file may join the configuration later: those of the include patterns. */
  dirs: string[];
}

/** The folder part of a glob before its first wildcard (`/etc/uvs/conf.d/*.conf` → `/etc/uvs/conf.d`). */
function patternDir(pattern: string): string {
  const wild = pattern.search(/[*?[{]/);
  return wild < 0 ? dirname(pattern) : dirname(`${pattern.slice(0, wild)}x`);
}

/** The disk, with Bun's glob (wildcards and braces). */
export const diskReader: RulesReader = {
  read: (path) => readFileSync(path, "utf8"),
  glob: (pattern) => {
    if (!/[*?[{]/.test(pattern)) {
      try {
        readFileSync(pattern);
        return [pattern];
      } catch {
        return [];
      }
    }
    const abs = pattern.startsWith("/");
    const g = new Bun.Glob(abs ? pattern.slice(1) : pattern);
    return [...g.scanSync({ cwd: abs ? "/" : ".", absolute: abs, onlyFiles: true })].sort();
  },
};

/** Files in memory (tests, or text already read): glob matches against the keys. */
export function memoryReader(files: Record<string, string>): RulesReader {
  return {
    read: (path) => {
      if (!Object.hasOwn(files, path)) throw new Error(`no such file: ${path}`);
      return files[path];
    },
    glob: (pattern) =>
      Object.keys(files)
        .filter((p) => new Bun.Glob(pattern).match(p))
        .sort(),
  };
}

export interface LoadOptions {
  reader?: RulesReader;
  /** Names for the save format's host:service forms; default this machine's files. */
  names?: NameDb;
}

/** Parse already-read text as the rules file `path` (includes resolved through `reader`). */
export function parseRules(path: string, text: string, opts: LoadOptions = {}): LoadResult {
  const reader = opts.reader ?? diskReader;
  const diags = new Diagnostics();
  let config: RulesConfig;
  const texts = new Map([[path, text]]);
  const dirs = new Set<string>();
  if (detectDialect(text) === "ipvsadm") {
    config = parseIpvsadmRules(text, path, opts.names ?? systemNameDb(), diags);
  } else {
    const inc = new IncludeExpander(
      { read: (p) => (p === path ? text : reader.read(p)), glob: reader.glob },
      diags,
    );
    const stmts = inc.load(path) ?? [];
    for (const [p, t] of inc.texts) texts.set(p, t);
    for (const p of inc.patterns) dirs.add(patternDir(p));
    config = analyzeKeepalived(stmts, path, inc.files, diags);
  }
  const diagnostics = sortDiagnostics(diags.list, config.files);
  return { config: diags.hasErrors ? null : config, diagnostics, texts, dirs: [...dirs] };
}

/** Read and parse the rules file at `path`. */
export function loadRules(path: string, reader: RulesReader = diskReader, names?: NameDb): LoadResult {
  let text: string;
  try {
    text = reader.read(path);
  } catch (e) {
    const message = `cannot read the rules file: ${e instanceof Error ? e.message : String(e)}`;
    return {
      config: null,
      diagnostics: [{ severity: "error", pos: posOf(path, 1, 1), message }],
      texts: new Map(),
      dirs: [],
    };
  }
  return parseRules(path, text, { reader, names });
}

/** A name database with no names (numeric addresses and ports only). */
export const NO_NAMES: NameDb = makeNameDb("", "");
