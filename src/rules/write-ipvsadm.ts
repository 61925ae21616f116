/**
 * Write-back for the save format: a changed `-A`/`-a` line is rewritten whole (numeric, as
 * `ipvsadm -S -n` prints it, plus -x/-y when set), a removed one deleted, new real servers go
 * after their service's last line and new services at the end. Other lines stay as they are.
 */
import { formatAddrPort, formatMask } from "../model/addr.ts";
import type { Dest } from "../model/dest.ts";
import {
  type Service,
  type ServiceId,
  SVC_F_ONEPACKET,
  SVC_F_PERSISTENT,
  SVC_F_SCHED_MASK,
  schedFlagNames,
} from "../model/service.ts";
import type { ServiceRule } from "./model.ts";
import { destChanges } from "./plan.ts";
import { type Edit, lineEnd } from "./text-edit.ts";

const FWD: Record<Dest["forward"], string> = { masq: "-m", tunnel: "-i", route: "-g", local: "-g" };

export function serviceOption(id: ServiceId): string {
  if (id.kind === "fwmark") return `-f ${id.fwmark}${id.af === "inet6" ? " -6" : ""}`;
  const opt = id.protocol === "tcp" ? "-t" : id.protocol === "udp" ? "-u" : "--sctp-service";
  return `${opt} ${formatAddrPort(id.addr, id.port)}`;
}

export function serviceLine(s: Service): string {
  let out = `-A ${serviceOption(s.id)} -s ${s.scheduler}`;
  if (s.flags & SVC_F_PERSISTENT) {
    out += ` -p ${s.timeout}`;
    if (s.af === "inet" && s.netmask >>> 0 !== 0xffffffff) out += ` -M ${formatMask(s.netmask)}`;
    if (s.af === "inet6" && s.netmask !== 128) out += ` -M ${s.netmask}`;
  }
  if (s.peName) out += ` --pe ${s.peName}`;
  if (s.flags & SVC_F_ONEPACKET) out += " -o";
  const names = schedFlagNames(s.scheduler, s.flags & SVC_F_SCHED_MASK);
  if (names.length) out += ` -b ${names.join(",")}`;
  return out;
}

function tunnelText(d: Dest): string {
  if (d.forward !== "tunnel") return "";
  if (d.tunnelType === "gue") return ` --tun-type gue --tun-port ${d.tunnelPort} --tun-${d.tunnelCsum}`;
  if (d.tunnelType === "gre") return ` --tun-type gre --tun-${d.tunnelCsum}`;
  return " --tun-type ipip";
}

export function destLine(s: Service, d: Dest): string {
  let out = `-a ${serviceOption(s.id)} -r ${formatAddrPort(d.addr, d.port)} ${FWD[d.forward]} -w ${d.weight}`;
  out += tunnelText(d);
  if (d.uThreshold) out += ` -x ${d.uThreshold}`;
  if (d.lThreshold) out += ` -y ${d.lThreshold}`;
  return out;
}

type Src = { file: string; start: number; end: number };

/** Replace a line's command, keeping its leading blanks and an `ipvsadm` word. */
function replaceLine(text: string, src: Src, line: string): Edit {
  const prefix = /^[ \t]*(ipvsadm[ \t]+)?/.exec(text.slice(src.start, src.end))?.[0] ?? "";
  return { file: src.file, start: src.start + prefix.length, end: src.end, text: line };
}

function deleteLine(text: string, src: Src): Edit {
  return {
    file: src.file,
    start: src.start,
    end: Math.min(lineEnd(text, src.start) + 1, text.length),
    text: "",
  };
}

function configDiffers(live: Service, rule: ServiceRule): boolean {
  const c = rule.config;
  return (
    live.scheduler !== c.scheduler ||
    live.flags !== c.flags ||
    live.timeout !== c.timeout ||
    live.netmask >>> 0 !== c.netmask >>> 0 ||
    live.peName !== c.peName
  );
}

/** Edits for one service of a save-format file (`live` null: it was deleted). */
export function ipvsadmServiceEdits(text: string, rule: ServiceRule, live: Service | null): Edit[] {
  if (rule.src.dialect !== "ipvsadm") return [];
  const svcSrc = rule.src;
  const srcs = rule.dests.flatMap((d) => (d.src.dialect === "ipvsadm" ? [d.src] : []));
  if (!live) return [svcSrc, ...srcs].map((s) => deleteLine(text, s));
  const out: Edit[] = [];
  if (configDiffers(live, rule)) out.push(replaceLine(text, svcSrc, serviceLine(live)));
  const known = new Set<string>();
  let last = svcSrc.end;
  for (const d of rule.dests) {
    if (d.src.dialect !== "ipvsadm") continue;
    const ld = live.findDest(d.config.addr, d.config.port);
    if (!ld) out.push(deleteLine(text, d.src));
    else {
      known.add(ld.key);
      last = Math.max(last, d.src.end);
      if (destChanges(ld, d.config).length) out.push(replaceLine(text, d.src, destLine(live, ld)));
    }
  }
  for (const ld of [...live.dests].reverse()) {
    if (!known.has(ld.key))
      out.push({ file: svcSrc.file, start: last, end: last, text: `\n${destLine(live, ld)}` });
  }
  return out;
}

/** Lines for a service the file does not have (oldest real server first). */
export function ipvsadmServiceText(s: Service): string {
  return [serviceLine(s), ...[...s.dests].reverse().map((d) => destLine(s, d))].join("\n");
}
