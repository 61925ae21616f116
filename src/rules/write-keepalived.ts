/**
 * Write-back for keepalived syntax: the edits that make a parsed file describe the live services.
 * Only statements whose value changed are touched (their arguments replaced, or a line inserted or
 * deleted); new real servers go at the end of their virtual_server block, new services at the end
 * of the file, in the file's own indentation.
 */
import { formatMask } from "../model/addr.ts";
import type { Dest } from "../model/dest.ts";
import {
  type Service,
  type ServiceConfig,
  SVC_F_ONEPACKET,
  SVC_F_PERSISTENT,
  SVC_F_SCHED_MASK,
  schedFlagNames,
} from "../model/service.ts";
import { type Block, findStmts, type Stmt } from "./cst.ts";
import { Diagnostics, type ServiceRule } from "./model.ts";
import { deleteSpan, type Edit, endsLine, indentAt, lineEnd, lineStart, startsLine } from "./text-edit.ts";
import { type Method, methodArgs, methodText } from "./values.ts";

const FLAG_KEYWORDS = ["flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback"];
const NAT: Method = { forward: "masq", tunnelType: "ipip", tunnelPort: 0, tunnelCsum: "nocsum" };

/**
 * How a file spells the scheduler and the forwarding method: keepalived's current names, or the
 * older lb_algo / lb_kind that many configurations (and ldirectord-era guides) still use.
 */
export interface KaNames {
  sched: "lvs_sched" | "lb_algo";
  method: "lvs_method" | "lb_kind";
}

export const CURRENT_NAMES: KaNames = { sched: "lvs_sched", method: "lvs_method" };

/** The spelling of a file's own services: the first statement of each kind decides. */
export function namesOf(stmts: Iterable<Stmt>): KaNames {
  let sched: KaNames["sched"] | undefined;
  let method: KaNames["method"] | undefined;
  const visit = (body: readonly Stmt[]) => {
    for (const x of body) {
      const k = x.keyword.text;
      if (!sched && (k === "lvs_sched" || k === "lb_algo")) sched = k;
      if (!method && (k === "lvs_method" || k === "lb_kind")) method = k;
      if (x.block) visit(x.block.body);
    }
  };
  for (const vs of stmts) visit([vs]);
  return { sched: sched ?? CURRENT_NAMES.sched, method: method ?? CURRENT_NAMES.method };
}

/** Texts by file, the file's indentation step and its spelling of keywords with two names. */
export interface KaFiles {
  text(file: string): string;
  unit: string;
  names: KaNames;
}

/** The aliases of a two-name keyword, the file's own spelling first (what an insert uses). */
const schedAliases = (n: KaNames) =>
  n.sched === "lb_algo" ? ["lb_algo", "lvs_sched"] : ["lvs_sched", "lb_algo"];
const methodAliases = (n: KaNames) =>
  n.method === "lb_kind" ? ["lb_kind", "lvs_method"] : ["lvs_method", "lb_kind"];

const sameMethod = (a: Method, b: Method) =>
  a.forward === b.forward &&
  (a.forward !== "tunnel" ||
    (a.tunnelType === b.tunnelType && a.tunnelPort === b.tunnelPort && a.tunnelCsum === b.tunnelCsum));

/** The indentation of a block's children (its first child's, else the header's plus one step). */
function childIndent(f: KaFiles, owner: Stmt): string {
  const text = f.text(owner.file);
  const first = owner.block?.body.find((s) => startsLine(text, s.start));
  return first ? indentAt(text, first.start) : indentAt(text, owner.start) + f.unit;
}

/** Where a new statement goes: after a sibling, before one, or (neither) before the closing brace. */
export interface Anchor {
  after?: Stmt;
  before?: Stmt;
}

/** Insert a statement (its lines joined with "\n", relative indentation) into `owner`'s block. */
function insertLine(f: KaFiles, owner: Stmt, line: string, anchor: Anchor = {}): Edit {
  const text = f.text(owner.file);
  const ind = childIndent(f, owner);
  const body = line.replace(/\n/g, `\n${ind}`);
  const file = owner.file;
  if (anchor.after && endsLine(text, anchor.after.end)) {
    const at = Math.min(lineEnd(text, anchor.after.end) + 1, text.length);
    const nl = at === text.length && !text.endsWith("\n") ? "\n" : "";
    return { file, start: at, end: at, text: `${nl}${ind}${body}\n` };
  }
  if (anchor.before) {
    const off = anchor.before.start;
    if (startsLine(text, off))
      return { file, start: lineStart(text, off), end: lineStart(text, off), text: `${ind}${body}\n` };
    return { file, start: off, end: off, text: `${body}\n${ind}` };
  }
  const close = (owner.block as Block).close;
  const off = close ? close.start : owner.end;
  if (startsLine(text, off))
    return { file, start: lineStart(text, off), end: lineStart(text, off), text: `${ind}${body}\n` };
  // The brace shares its line with a statement: end that line, and put the brace on its own.
  const start = off - (/[ \t]*$/.exec(text.slice(0, off))?.[0].length ?? 0);
  return { file, start, end: off, text: `\n${ind}${body}\n${indentAt(text, owner.start)}` };
}

/** Replace the arguments of `s` (or give it some). */
function setArgs(s: Stmt, value: string): Edit {
  if (s.args.length === 0)
    return { file: s.file, start: s.keyword.end, end: s.keyword.end, text: ` ${value}` };
  return { file: s.file, start: s.args[0].start, end: s.args[s.args.length - 1].end, text: value };
}

/** Set a keyword's value: edit the statement that sets it, else insert one. */
function setValue(f: KaFiles, owner: Stmt, aliases: string[], value: string, anchor?: Anchor): Edit {
  const found = findStmts(owner.block?.body ?? [], ...aliases)[0];
  return found ? setArgs(found, value) : insertLine(f, owner, `${aliases[0]} ${value}`, anchor);
}

function removeAll(f: KaFiles, owner: Stmt, ...keywords: string[]): Edit[] {
  return findStmts(owner.block?.body ?? [], ...keywords).map((s) =>
    deleteSpan(s.file, f.text(s.file), s.start, s.end),
  );
}

/** The forwarding method a virtual_server block gives its real servers. */
export function vsMethod(vs: Stmt): Method {
  const s = findStmts(vs.block?.body ?? [], "lvs_method", "lb_kind")[0];
  return (s && methodArgs({ diags: new Diagnostics() }, s)) || NAT;
}

const destMethod = (d: Dest): Method => ({
  forward: d.forward,
  tunnelType: d.tunnelType,
  tunnelPort: d.tunnelPort,
  tunnelCsum: d.tunnelCsum,
});

function granularityText(live: ServiceConfig, af: "inet" | "inet6"): string | null {
  if (af === "inet") return live.netmask >>> 0 === 0xffffffff ? null : formatMask(live.netmask);
  return live.netmask === 128 ? null : String(live.netmask);
}

function persistenceEdits(f: KaFiles, vs: Stmt, live: Service, rule: ServiceConfig, before?: Anchor): Edit[] {
  const same = live.timeout === rule.timeout && live.netmask >>> 0 === rule.netmask >>> 0;
  if (same && (live.flags & SVC_F_PERSISTENT) === (rule.flags & SVC_F_PERSISTENT)) return [];
  if (!(live.flags & SVC_F_PERSISTENT))
    return removeAll(f, vs, "persistence_timeout", "persistence_granularity");
  const out = [setValue(f, vs, ["persistence_timeout"], String(live.timeout), before)];
  const g = granularityText(live, live.af);
  out.push(
    ...(g
      ? [setValue(f, vs, ["persistence_granularity"], g, before)]
      : removeAll(f, vs, "persistence_granularity")),
  );
  return out;
}

function flagEdits(f: KaFiles, vs: Stmt, live: Service, rule: ServiceConfig, before?: Anchor): Edit[] {
  const out: Edit[] = [];
  const ops = live.flags & SVC_F_ONEPACKET;
  if (ops !== (rule.flags & SVC_F_ONEPACKET))
    out.push(...(ops ? [insertLine(f, vs, "ops", before)] : removeAll(f, vs, "ops")));
  const bits = live.flags & SVC_F_SCHED_MASK;
  if (bits !== (rule.flags & SVC_F_SCHED_MASK) || (bits && live.scheduler !== rule.scheduler)) {
    out.push(...removeAll(f, vs, ...FLAG_KEYWORDS));
    for (const name of schedFlagNames(live.scheduler, bits)) out.push(insertLine(f, vs, name, before));
  }
  return out;
}

/** New settings go after the last setting before the real servers (else before the first one). */
function settingsAnchor(vs: Stmt): Anchor {
  const body = vs.block?.body ?? [];
  const firstRs = body.findIndex((x) => x.keyword.text === "real_server");
  const settings = firstRs < 0 ? body : body.slice(0, firstRs);
  if (settings.length) return { after: settings[settings.length - 1] };
  return firstRs < 0 ? {} : { before: body[firstRs] };
}

/** Edits of the virtual_server's own settings. */
function serviceEdits(f: KaFiles, vs: Stmt, live: Service, rule: ServiceConfig): Edit[] {
  const out: Edit[] = [];
  const before = settingsAnchor(vs);
  if (live.scheduler !== rule.scheduler)
    out.push(setValue(f, vs, schedAliases(f.names), live.scheduler, before));
  out.push(...persistenceEdits(f, vs, live, rule, before));
  out.push(...flagEdits(f, vs, live, rule, before));
  if (live.peName !== rule.peName) {
    if (live.peName) out.push(setValue(f, vs, ["persistence_engine"], live.peName, before));
    else out.push(...removeAll(f, vs, "persistence_engine"));
  }
  return out;
}

function destEdits(
  f: KaFiles,
  rs: Stmt,
  vsM: Method,
  live: Dest,
  file: { weight: number; method: Method; u: number; l: number },
): Edit[] {
  const out: Edit[] = [];
  if (live.weight !== file.weight) out.push(setValue(f, rs, ["weight"], String(live.weight)));
  const m = destMethod(live);
  if (!sameMethod(m, file.method)) {
    const has = findStmts(rs.block?.body ?? [], "lvs_method", "lb_kind").length > 0;
    if (has || !sameMethod(m, vsM)) out.push(setValue(f, rs, methodAliases(f.names), methodText(m)));
  }
  if (live.uThreshold !== file.u) out.push(setValue(f, rs, ["uthreshold"], String(live.uThreshold)));
  if (live.lThreshold !== file.l) out.push(setValue(f, rs, ["lthreshold"], String(live.lThreshold)));
  return out;
}

/** A new real_server block (lines joined with "\n", indented relative to its first line). */
export function realServerText(
  live: Dest,
  vsM: Method,
  fwmark: boolean,
  unit: string,
  names: KaNames = CURRENT_NAMES,
): string {
  const port = fwmark && live.port === 0 ? "" : ` ${live.port}`;
  const lines = [`real_server ${live.addr.text}${port} {`, `${unit}weight ${live.weight}`];
  if (!sameMethod(destMethod(live), vsM))
    lines.push(`${unit}${names.method} ${methodText(destMethod(live))}`);
  if (live.uThreshold) lines.push(`${unit}uthreshold ${live.uThreshold}`);
  if (live.lThreshold) lines.push(`${unit}lthreshold ${live.lThreshold}`);
  lines.push("}");
  return lines.join("\n");
}

/** Every edit that makes the block of `rule` describe `live`. */
export function keepalivedServiceEdits(f: KaFiles, rule: ServiceRule, live: Service): Edit[] {
  if (rule.src.dialect !== "keepalived") return [];
  const vs = rule.src.stmt;
  const vsM = vsMethod(vs);
  const out = serviceEdits(f, vs, live, rule.config);
  const ruleKeys = new Set<string>();
  for (const d of rule.dests) {
    if (d.src.dialect !== "keepalived") continue;
    const rs = d.src.stmt;
    const ld = live.findDest(d.config.addr, d.config.port);
    ruleKeys.add(ld?.key ?? "");
    if (!ld) {
      out.push(deleteSpan(rs.file, f.text(rs.file), rs.start, rs.end));
      continue;
    }
    const c = d.config;
    out.push(...destEdits(f, rs, vsM, ld, { weight: c.weight, method: c, u: c.uThreshold, l: c.lThreshold }));
  }
  // New real servers, oldest first: adding them in file order rebuilds the kernel's list.
  for (const ld of [...live.dests].reverse()) {
    if (ruleKeys.has(ld.key)) continue;
    out.push(insertLine(f, vs, realServerText(ld, vsM, live.id.kind === "fwmark", f.unit, f.names)));
  }
  return out;
}

function serviceHeader(s: Service): string {
  const id = s.id;
  if (id.kind === "fwmark") return `virtual_server fwmark ${id.fwmark} {`;
  return `virtual_server ${id.addr.text}${id.port ? ` ${id.port}` : ""} {`;
}

/** A new virtual_server block for a service the file does not have (no trailing newline). */
export function virtualServerText(s: Service, unit: string, names: KaNames = CURRENT_NAMES): string {
  const oldest = s.dests.at(-1);
  const vsM = oldest ? destMethod(oldest) : NAT;
  const lines = [`${names.sched} ${s.scheduler}`, `${names.method} ${methodText(vsM)}`];
  if (s.id.kind === "addr") lines.push(`protocol ${s.id.protocol.toUpperCase()}`);
  else if (s.af === "inet6") lines.push("ip_family inet6");
  if (s.flags & SVC_F_PERSISTENT) {
    lines.push(`persistence_timeout ${s.timeout}`);
    const g = granularityText(s, s.af);
    if (g) lines.push(`persistence_granularity ${g}`);
  }
  if (s.peName) lines.push(`persistence_engine ${s.peName}`);
  if (s.flags & SVC_F_ONEPACKET) lines.push("ops");
  lines.push(...schedFlagNames(s.scheduler, s.flags & SVC_F_SCHED_MASK));
  for (const d of [...s.dests].reverse())
    lines.push(...realServerText(d, vsM, s.id.kind === "fwmark", unit, names).split("\n"));
  return [serviceHeader(s), ...lines.map((l) => unit + l), "}"].join("\n");
}
