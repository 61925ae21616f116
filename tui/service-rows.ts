/**
 * The Services screen's rows: ipvsadm's own -Ln / --stats / --rate lines (src/cli/ipvsadm/format.ts),
 * one row per service and real server, in ipvsadm's order. Only the rows on screen are formatted.
 */
import { emptyFormat, type ListFormat } from "../src/cli/ipvsadm/command.ts";
import type { DestEntry, SvcEntry } from "../src/cli/ipvsadm/entries.ts";
import { serviceEntryText, sortedDests, sortedServices, titleText } from "../src/cli/ipvsadm/format.ts";
import { serviceName } from "../src/cli/ipvsadm/labels.ts";
import { makeNameDb } from "../src/cli/ipvsadm/names.ts";
import { addrPort } from "../src/cli/ipvsadm/text.ts";
import type { Snapshot } from "../src/model/snapshot.ts";

export type ServiceView = "default" | "stats" | "rate";
export const SERVICE_VIEWS: readonly ServiceView[] = ["default", "stats", "rate"];

/** Numeric listings never look names up; an empty database keeps /etc out of the picture. */
export const NUMERIC_NAMES = makeNameDb("", "");

export interface ServiceRow {
  svc: SvcEntry;
  /** null on the service's own row */
  dest: DestEntry | null;
  /** The service as ipvsadm spells it on a command line, e.g. `-t 127.0.0.1:80` or `-f 5 -6`. */
  svcRule: string;
  /** `127.0.0.1:9001` (`[::1]:80` for IPv6); "" on a service row */
  destText: string;
  /** Position of this row in its service's block: 0 is the service line. */
  line: number;
}

export function formatOf(view: ServiceView): ListFormat {
  return { ...emptyFormat(), numeric: true, stats: view === "stats", rate: view === "rate" };
}

/** Every row, in ipvsadm's order (services sorted, then their real servers sorted). */
export function serviceRows(snap: Snapshot): ServiceRow[] {
  const rows: ServiceRow[] = [];
  for (const svc of sortedServices(snap, false)) {
    const svcRule = serviceName(svc, true, true, NUMERIC_NAMES);
    rows.push({ svc, dest: null, svcRule, destText: "", line: 0 });
    sortedDests(svc, false).forEach((dest, i) => {
      const destText = addrPort(dest.af, dest.addr, dest.port, svc.protocol, true, NUMERIC_NAMES);
      rows.push({ svc, dest, svcRule, destText, line: i + 1 });
    });
  }
  return rows;
}

/** The key a real server's history is kept under. */
export const destKey = (r: ServiceRow) => `${r.svcRule}|${r.destText}`;

/** The column titles of a view (two lines, as ipvsadm prints them). */
export function viewTitle(view: ServiceView): string[] {
  return titleText(view).trimEnd().split("\n");
}

/** ipvsadm's text for rows[from, to): each service's block is formatted once. */
export function rowTexts(rows: readonly ServiceRow[], from: number, to: number, view: ServiceView): string[] {
  const f = formatOf(view);
  const out: string[] = [];
  let block: string[] = [];
  let blockOf: SvcEntry | null = null;
  for (let i = from; i < Math.min(to, rows.length); i++) {
    const r = rows[i];
    if (r.svc !== blockOf) {
      blockOf = r.svc;
      block = serviceEntryText(r.svc, f, NUMERIC_NAMES).split("\n");
    }
    out.push(block[r.line] ?? "");
  }
  return out;
}
