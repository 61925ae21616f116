/**
 * keepalived's `include GLOB` (§1.1): the matched files' statements replace the include, at any
 * depth; a relative pattern resolves against the including file's directory. `include` quietly
 * matching nothing is only a warning here; includer/includem/includew/includeb/includea make a
 * missing or unreadable file an error.
 */
import { dirname, isAbsolute, join } from "node:path";
import type { Stmt } from "./cst.ts";
import { type Diagnostics, posOf } from "./model.ts";
import { parseKeepalived } from "./parser.ts";
import { stmtPos } from "./values.ts";

/** File access for loading, injectable so tests need no disk. */
export interface RulesReader {
  /** The file's text; throws when it cannot be read. */
  read(path: string): string;
  /** Paths matching a glob pattern (absolute or relative to the process), sorted. */
  glob(pattern: string): string[];
}

const INCLUDES = new Set(["include", "includer", "includem", "includew", "includeb", "includea"]);
const MAX_INCLUDE_DEPTH = 16;

export class IncludeExpander {
  readonly files: string[] = [];
  readonly texts = new Map<string, string>();
  /** Every include pattern, made absolute: a file that appears later may match it. */
  readonly patterns: string[] = [];
  constructor(
    readonly reader: RulesReader,
    readonly diags: Diagnostics,
  ) {}

  /** Parse `path` and expand its includes; null when it cannot be read. */
  load(path: string, stack: string[] = []): Stmt[] | null {
    let text: string;
    try {
      text = this.reader.read(path);
    } catch (e) {
      if (stack.length === 0)
        this.diags.error(posOf(path, 1, 1), `cannot read the rules file: ${errorText(e)}`);
      return null;
    }
    if (!this.texts.has(path)) this.files.push(path);
    this.texts.set(path, text);
    const cst = parseKeepalived(text, path, this.diags);
    return this.expand(cst.stmts, [...stack, path]);
  }

  private expand(stmts: Stmt[], stack: string[]): Stmt[] {
    const out: Stmt[] = [];
    for (const s of stmts) {
      if (INCLUDES.has(s.keyword.text)) out.push(...this.include(s, stack));
      else {
        if (s.block) s.block.body = this.expand(s.block.body, stack);
        out.push(s);
      }
    }
    return out;
  }

  private include(s: Stmt, stack: string[]): Stmt[] {
    const strict = s.keyword.text !== "include";
    if (s.args.length !== 1 || s.block) {
      this.diags.error(stmtPos(s), `'${s.keyword.text}' expects one file name or pattern`);
      return [];
    }
    const pattern = s.args[0].text;
    const full = isAbsolute(pattern) ? pattern : join(dirname(s.file), pattern);
    this.patterns.push(full);
    let paths: string[] = [];
    try {
      paths = this.reader.glob(full);
    } catch {}
    const report = strict ? this.diags.error.bind(this.diags) : this.diags.warn.bind(this.diags);
    if (paths.length === 0) report(stmtPos(s), `'${pattern}' matches no file`);
    const out: Stmt[] = [];
    for (const p of paths) {
      if (stack.includes(p) || stack.length >= MAX_INCLUDE_DEPTH) {
        this.diags.error(stmtPos(s), `include loop: '${p}' is already being read`);
        continue;
      }
      const got = this.load(p, stack);
      if (got === null) report(stmtPos(s), `cannot read '${p}'`);
      else out.push(...got);
    }
    return out;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
