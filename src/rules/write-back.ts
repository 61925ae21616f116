/**
 * Write-back: the rules file's text updated to describe the live director (after changes made
 * through the CLI or TUI), in the file's own dialect. Comments, formatting and every untouched
 * statement stay byte for byte; the caller writes the result with writeFileAtomic.
 *
 * A virtual_server naming a group stands for several services. When the live services of a
 * group would need different edits of the shared block, the odd ones are taken out of the group
 * (their entry line removed or narrowed) and written as blocks of their own.
 */
import { formatAddrPort } from "../model/addr.ts";
import { type Service, serviceKey } from "../model/service.ts";
import type { Stmt } from "./cst.ts";
import type { RulesConfig, ServiceRule } from "./model.ts";
import type { LiveState } from "./plan.ts";
import {
  appendText,
  applyEdits,
  deleteSpan,
  type Edit,
  indentAt,
  indentUnit,
  lineEnd,
  lineStart,
} from "./text-edit.ts";
import { ipvsadmServiceEdits, ipvsadmServiceText } from "./write-ipvsadm.ts";
import { type KaFiles, keepalivedServiceEdits, namesOf, virtualServerText } from "./write-keepalived.ts";

/** Write-back needs the text of an included file it was not given. */
export class WriteBackError extends Error {}

function liveMap(live: LiveState): Map<string, Service> {
  const s = live.services;
  const list = s instanceof Map ? [...s.values()] : [...(s as Iterable<Service>)];
  return new Map(list.map((x) => [x.key, x]));
}

interface Out {
  edits: Edit[];
  appended: string[];
}

function memberKey(r: ServiceRule): string {
  if (r.src.dialect !== "keepalived" || !r.src.group) return "";
  const id = r.id;
  return `${r.src.group.entry.start}|${id.kind === "fwmark" ? `f${id.fwmark}` : formatAddrPort(id.addr, id.port)}`;
}

function memberText(r: ServiceRule): string {
  const id = r.id;
  if (id.kind === "fwmark") return `fwmark ${id.fwmark}${id.af === "inet6" ? " inet6" : ""}`;
  return `${id.addr.text}${id.port ? ` ${id.port}` : ""}`;
}

class KeepalivedWriter {
  readonly out: Out = { edits: [], appended: [] };
  constructor(
    readonly f: KaFiles,
    readonly live: Map<string, Service>,
  ) {}

  private liveOf(r: ServiceRule): Service | undefined {
    return this.live.get(serviceKey(r.id));
  }

  private remove(s: Stmt): void {
    this.out.edits.push(deleteSpan(s.file, this.f.text(s.file), s.start, s.end));
  }

  single(r: ServiceRule, stmt: Stmt): void {
    const l = this.liveOf(r);
    if (l) this.out.edits.push(...keepalivedServiceEdits(this.f, r, l));
    else this.remove(stmt);
  }

  /** All services of the virtual_server blocks that use groups. */
  groups(rules: ServiceRule[]): void {
    const kept = new Set<ServiceRule>();
    const byVs = Map.groupBy(rules, (r) => (r.src.dialect === "keepalived" ? r.src.stmt : null));
    const vsEdits = new Map<Stmt, Edit[]>();
    for (const [vs, members] of byVs) {
      const withEdits = members.flatMap((m) => {
        const l = this.liveOf(m);
        return l ? [{ m, e: keepalivedServiceEdits(this.f, m, l) }] : [];
      });
      if (!vs || withEdits.length === 0) continue;
      const ref = JSON.stringify(withEdits[0].e);
      for (const x of withEdits) if (JSON.stringify(x.e) === ref) kept.add(x.m);
      vsEdits.set(vs, withEdits[0].e);
    }
    const byMember = Map.groupBy(rules, memberKey);
    const fully = new Set([...byMember].filter(([, rs]) => rs.every((r) => kept.has(r))).map(([k]) => k));
    this.entries(rules, fully);
    for (const r of rules) {
      const l = this.liveOf(r);
      if (l && !fully.has(memberKey(r)))
        this.out.appended.push(virtualServerText(l, this.f.unit, this.f.names));
    }
    for (const [vs, members] of byVs) {
      if (!vs) continue;
      if (members.some((m) => fully.has(memberKey(m)))) this.out.edits.push(...(vsEdits.get(vs) ?? []));
      else this.remove(vs);
    }
  }

  /** Narrow or delete the group entries whose members are not all kept; drop emptied groups. */
  private entries(rules: ServiceRule[], fully: Set<string>): void {
    const byEntry = Map.groupBy(rules, (r) =>
      r.src.dialect === "keepalived" ? r.src.group?.entry : undefined,
    );
    const groupOf = (rs: ServiceRule[]) =>
      rs[0].src.dialect === "keepalived" ? rs[0].src.group?.groupStmt : undefined;
    const alive = new Set<Stmt>();
    for (const rs of byEntry.values()) {
      const g = groupOf(rs);
      if (g && rs.some((r) => fully.has(memberKey(r)))) alive.add(g);
    }
    for (const [entry, rs] of byEntry) {
      const g = groupOf(rs);
      if (!entry || !g || !alive.has(g)) continue;
      const keep = [
        ...new Map(rs.filter((r) => fully.has(memberKey(r))).map((r) => [memberKey(r), r])).values(),
      ];
      if (keep.length === new Set(rs.map(memberKey)).size) continue;
      if (keep.length === 0) {
        this.remove(entry);
        continue;
      }
      const text = this.f.text(entry.file);
      const ind = indentAt(text, entry.start);
      const body = keep.map((r) => ind + memberText(r)).join("\n");
      this.out.edits.push({
        file: entry.file,
        start: lineStart(text, entry.start),
        end: lineEnd(text, entry.end),
        text: body,
      });
    }
    for (const rs of byEntry.values()) {
      const g = groupOf(rs);
      if (g && !alive.has(g)) {
        alive.add(g); // remove once
        this.remove(g);
      }
    }
  }
}

function keepalivedEdits(f: KaFiles, config: RulesConfig, live: Map<string, Service>): Out {
  const w = new KeepalivedWriter(f, live);
  const grouped: ServiceRule[] = [];
  for (const r of config.services) {
    if (r.src.dialect !== "keepalived") continue;
    if (r.src.group) grouped.push(r);
    else w.single(r, r.src.stmt);
  }
  w.groups(grouped);
  const known = new Set(config.services.map((r) => serviceKey(r.id)));
  for (const s of live.values())
    if (!known.has(s.key)) w.out.appended.push(virtualServerText(s, f.unit, f.names));
  return w.out;
}

function ipvsadmEdits(text: string, config: RulesConfig, live: Map<string, Service>): Out {
  const out: Out = { edits: [], appended: [] };
  for (const r of config.services)
    out.edits.push(...ipvsadmServiceEdits(text, r, live.get(serviceKey(r.id)) ?? null));
  const known = new Set(config.services.map((r) => serviceKey(r.id)));
  for (const s of live.values()) if (!known.has(s.key)) out.appended.push(ipvsadmServiceText(s));
  return out;
}

/** The file's spelling of lvs_sched / lvs_method, from its virtual_server blocks. */
function kaNames(config: RulesConfig) {
  const blocks: Stmt[] = [];
  for (const r of config.services) if (r.src.dialect === "keepalived") blocks.push(r.src.stmt);
  return namesOf(blocks);
}

/** Every file's new text (files without edits are returned unchanged). */
export function writeBackFiles(
  texts: ReadonlyMap<string, string>,
  config: RulesConfig,
  live: LiveState,
): Map<string, string> {
  const main = texts.get(config.file) ?? "";
  const lives = liveMap(live);
  const textOf = (file: string) => {
    const t = texts.get(file);
    if (t === undefined) throw new WriteBackError(`write-back needs the text of included file ${file}`);
    return t;
  };
  const out =
    config.dialect === "ipvsadm"
      ? ipvsadmEdits(main, config, lives)
      : keepalivedEdits({ text: textOf, unit: indentUnit(main), names: kaNames(config) }, config, lives);
  const result = new Map(texts);
  for (const file of new Set(out.edits.map((e) => e.file))) {
    result.set(
      file,
      applyEdits(
        textOf(file),
        out.edits.filter((e) => e.file === file),
      ),
    );
  }
  if (out.appended.length) {
    const body = result.get(config.file) ?? "";
    const ka = config.dialect === "keepalived";
    result.set(config.file, body + appendText(body, `${out.appended.join(ka ? "\n\n" : "\n")}\n`, ka));
  }
  return result;
}

/** The rules file's text updated to describe `live` (services defined in includes need writeBackFiles). */
export function writeBack(originalText: string, config: RulesConfig, live: LiveState): string {
  return (
    writeBackFiles(new Map([[config.file, originalText]]), config, live).get(config.file) ?? originalText
  );
}
