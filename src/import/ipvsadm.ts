/**
 * `ipvsadm-save` text → a keepalived-syntax rules file: the save format is read by the rules
 * loader's own reader, applied to an empty table, and each service written as the rules writer
 * writes new services (same scheduler, method, persistence, flags and real servers).
 */
import { systemNameDb } from "../cli/ipvsadm/names.ts";
import { Director } from "../director/director.ts";
import { parseIpvsadmRules } from "../rules/ipvsadm-dialect.ts";
import { Diagnostics, formatDiagnostic } from "../rules/model.ts";
import { planReload } from "../rules/plan.ts";
import { virtualServerText } from "../rules/write-keepalived.ts";
import type { ImportResult } from "./ldirectord.ts";

export function importIpvsadm(text: string, source = "<stdin>"): ImportResult {
  const diags = new Diagnostics();
  const config = parseIpvsadmRules(text, source, systemNameDb(), diags);
  const errors = diags.list.filter((d) => d.severity === "error").map(formatDiagnostic);
  const warnings = diags.list.filter((d) => d.severity === "warning").map(formatDiagnostic);
  const d = new Director();
  for (const op of planReload(d, config).ops) {
    const r = d.apply(op);
    if (!r.ok) errors.push(`${source}: ${op.op} refused (${r.errno})`);
  }
  const blocks = [...d.services.values()].map((s) => virtualServerText(s, "    "));
  const out = [`# Imported from ${source} by uvs import ipvsadm`, "", blocks.join("\n\n")].join("\n");
  return { text: `${out}\n`, errors, warnings };
}
