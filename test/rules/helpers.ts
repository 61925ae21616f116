/** Shared helpers for the rules tests: parse text in memory, build a director from a config. */
import { expect } from "bun:test";
import { Director } from "../../src/director/director.ts";
import { memoryReader, NO_NAMES, parseRules } from "../../src/rules/load.ts";
import { type Diagnostic, formatDiagnostic, type RulesConfig } from "../../src/rules/model.ts";
import { planReload } from "../../src/rules/plan.ts";

export const FILE = "/etc/uvs/uvs.conf";

/** Parse `text` as FILE (plus optional other in-memory files). */
export function parse(text: string, files: Record<string, string> = {}) {
  return parseRules(FILE, text, { reader: memoryReader({ [FILE]: text, ...files }), names: NO_NAMES });
}

export const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === "error");
export const warnings = (ds: Diagnostic[]) => ds.filter((d) => d.severity === "warning");
export const lines = (ds: Diagnostic[]) => ds.map(formatDiagnostic);

/** Parse, expecting no error; returns the config. */
export function parseOk(text: string, files: Record<string, string> = {}): RulesConfig {
  const r = parse(text, files);
  expect(lines(errors(r.diagnostics))).toEqual([]);
  return r.config!;
}

/** A director holding exactly what `config` describes (applied through the reload plan). */
export function directorFrom(config: RulesConfig): Director {
  const d = new Director({});
  for (const op of planReload({ services: [] }, config).ops) {
    const r = d.apply(op);
    if (!r.ok) throw new Error(`${op.op}: ${r.errno}`);
  }
  return d;
}

/** Apply ops to a director, failing the test on any kernel error. */
export function applyAll(d: Director, ops: Parameters<Director["apply"]>[0][]): void {
  for (const op of ops) {
    const r = d.apply(op);
    if (!r.ok) throw new Error(`${op.op}: ${r.errno}`);
  }
}
