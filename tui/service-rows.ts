/**
 * The Services screen's rows: ipvsadm's own -Ln / --stats / --rate lines (src/cli/ipvsadm/format.ts),
 * one row per service and real server, in ipvsadm's order. Only the rows on screen are formatted.
 *
 * A new snapshot arrives up to 4 times a second with new objects for every service, but the table's
 * shape (which services, which real servers, their order and names) rarely changes. So the order and
 * the names are kept from the previous rows and recomputed only for what changed, and a row's ipvsadm
 * entries (`svc`, `dest`: parsed addresses, 32-bit counters) are built when first read, which only the
 * rows on screen (and the selected one) do: with 1,000 services × 10 real servers, rows for a new
 * snapshot take ~2 ms instead of ~25 ms.
 */
import { emptyFormat, type ListFormat } from "../src/cli/ipvsadm/command.ts";
import { type DestEntry, type SvcEntry, svcEntry } from "../src/cli/ipvsadm/entries.ts";
import { serviceEntryText, titleText } from "../src/cli/ipvsadm/format.ts";
import { serviceName } from "../src/cli/ipvsadm/labels.ts";
import { makeNameDb } from "../src/cli/ipvsadm/names.ts";
import { cmpDests, cmpServices, glibcMergeSort } from "../src/cli/ipvsadm/sort.ts";
import { addrPort } from "../src/cli/ipvsadm/text.ts";
import type { SnapDest, SnapService, Snapshot } from "../src/model/snapshot.ts";

export type ServiceView = "default" | "stats" | "rate";
export const SERVICE_VIEWS: readonly ServiceView[] = ["default", "stats", "rate"];

/** Numeric listings never look names up; an empty database keeps /etc out of the picture. */
export const NUMERIC_NAMES = makeNameDb("", "");

/** What a service's rows keep while its real servers stay the same: their order and names. */
interface Layout {
  /** the service's identity: `fwmark|af|protocol|address|port` */
  id: string;
  /** real servers as they came (family, address, port), to see whether they changed */
  dests: { af: string; address: string; port: number }[];
  /** The service as ipvsadm spells it on a command line, e.g. `-t 127.0.0.1:80` or `-f 5 -6`. */
  svcRule: string;
  /** indices into `destinations`, in ipvsadm's order */
  order: number[];
  /** `127.0.0.1:9001` per real server, in ipvsadm's order */
  destTexts: string[];
  /** history keys (destKey) per real server, in ipvsadm's order */
  keys: string[];
}

/** How many service blocks were formatted (tests: only the services on screen, once per view). */
export const formatCount = { n: 0 };

/** One service of one snapshot; its ipvsadm entry is built when a row first asks for it. */
class Block {
  #entry: SvcEntry | null;
  constructor(
    readonly snap: SnapService,
    readonly layout: Layout,
    entry: SvcEntry | null,
  ) {
    this.#entry = entry;
  }
  get entry(): SvcEntry {
    this.#entry ??= svcEntry(this.snap);
    return this.#entry;
  }
  /** Whether the entry was built (tests: only the rows on screen build theirs). */
  get built(): boolean {
    return this.#entry !== null;
  }
  #lines: Partial<Record<ServiceView, string[]>> = {};
  /** ipvsadm's lines of this service and its real servers in `view`, formatted on first use. */
  lines(view: ServiceView): string[] {
    let l = this.#lines[view];
    if (!l) {
      formatCount.n++;
      l = serviceEntryText(this.entry, formatOf(view), NUMERIC_NAMES).split("\n");
      this.#lines[view] = l;
    }
    return l;
  }
}

/** A row of the table: a service (line 0) or one of its real servers. */
export class ServiceRow {
  readonly #block: Block;
  /** Position of this row in its service's block: 0 is the service line. */
  readonly line: number;
  constructor(block: Block, line: number) {
    this.#block = block;
    this.line = line;
  }
  get svc(): SvcEntry {
    return this.#block.entry;
  }
  /** null on the service's own row */
  get dest(): DestEntry | null {
    return this.line === 0 ? null : this.#block.entry.dests[this.#block.layout.order[this.line - 1]];
  }
  /** The service as ipvsadm spells it on a command line, e.g. `-t 127.0.0.1:80` or `-f 5 -6`. */
  get svcRule(): string {
    return this.#block.layout.svcRule;
  }
  /** `127.0.0.1:9001` (`[::1]:80` for IPv6); "" on a service row */
  get destText(): string {
    return this.line === 0 ? "" : this.#block.layout.destTexts[this.line - 1];
  }
  /** The key a real server's history is kept under ("" on a service row). */
  get key(): string {
    return this.line === 0 ? "" : this.#block.layout.keys[this.line - 1];
  }
  /** The real server's connections per second, without building its entry (0 on a service row). */
  get cps(): number {
    if (this.line === 0) return 0;
    const d = this.#block.snap.destinations[this.#block.layout.order[this.line - 1]];
    return Number(BigInt.asUintN(32, d.rates.cps));
  }
  /** The snapshot's service this row belongs to (rows of one service share it). */
  get service(): SnapService {
    return this.#block.snap;
  }
  /** The row's ipvsadm line in `view`. */
  text(view: ServiceView): string {
    return this.#block.lines(view)[this.line] ?? "";
  }
  /** Whether this row's ipvsadm entry has been built (tests). */
  get built(): boolean {
    return this.#block.built;
  }
}

export function formatOf(view: ServiceView): ListFormat {
  return { ...emptyFormat(), numeric: true, stats: view === "stats", rate: view === "rate" };
}

const svcId = (s: SnapService) => `${s.fwmark ?? 0}|${s.af}|${s.protocol}|${s.address}|${s.port}`;
function sameDests(l: Layout, dests: readonly SnapDest[]): boolean {
  if (l.dests.length !== dests.length) return false;
  for (let i = 0; i < dests.length; i++) {
    const a = l.dests[i];
    const b = dests[i];
    if (a.port !== b.port || a.address !== b.address || a.af !== b.af) return false;
  }
  return true;
}

/** Order and names of one service's rows, from ipvsadm's own sort and label functions. */
function layoutOf(s: SnapService, id: string, entry: SvcEntry): Layout {
  const svcRule = serviceName(entry, true, true, NUMERIC_NAMES);
  const order = glibcMergeSort(
    entry.dests.map((_, i) => i),
    (a, b) => cmpDests(entry.dests[a], entry.dests[b]),
  );
  const destTexts = order.map((i) => {
    const d = entry.dests[i];
    return addrPort(d.af, d.addr, d.port, entry.protocol, true, NUMERIC_NAMES);
  });
  return {
    id,
    dests: s.destinations.map((d) => ({ af: d.af, address: d.address, port: d.port })),
    svcRule,
    order,
    destTexts,
    keys: destTexts.map((t) => `${svcRule}|${t}`),
  };
}

/** The services' order and layouts, kept between snapshots (see serviceRows). */
interface Shape {
  ids: string[];
  /** indices into `services`, in ipvsadm's order */
  order: number[];
  layouts: Map<string, Layout>;
}

const shapes = new WeakMap<readonly ServiceRow[], Shape>();

/**
 * Every row, in ipvsadm's order (services sorted, then their real servers sorted). Pass the previous
 * rows to reuse what did not change: the order of the services and each unchanged service's layout.
 */
export function serviceRows(snap: Snapshot, prev?: readonly ServiceRow[]): ServiceRow[] {
  const old = prev ? shapes.get(prev) : undefined;
  const ids = snap.services.map(svcId);
  const entries: (SvcEntry | null)[] = snap.services.map(() => null);
  const entryOf = (i: number) => {
    entries[i] ??= svcEntry(snap.services[i]);
    return entries[i];
  };
  const order =
    old && old.ids.length === ids.length && ids.every((id, i) => id === old.ids[i])
      ? old.order
      : glibcMergeSort(
          ids.map((_, i) => i),
          (a, b) => cmpServices(entryOf(a), entryOf(b)),
        );
  const layouts = new Map<string, Layout>();
  const rows: ServiceRow[] = [];
  for (const i of order) {
    const s = snap.services[i];
    const id = ids[i];
    let layout = old?.layouts.get(id);
    if (!layout || !sameDests(layout, s.destinations)) layout = layoutOf(s, id, entryOf(i));
    layouts.set(id, layout);
    // An entry built for sorting is the one the rows would build: keep it.
    const block = new Block(s, layout, entries[i]);
    for (let line = 0; line <= layout.order.length; line++) rows.push(new ServiceRow(block, line));
  }
  shapes.set(rows, { ids, order, layouts });
  return rows;
}

/** The key a real server's history is kept under. */
export const destKey = (r: ServiceRow) => r.key;

/** The column titles of a view (two lines, as ipvsadm prints them). */
export function viewTitle(view: ServiceView): string[] {
  return titleText(view).trimEnd().split("\n");
}

/** ipvsadm's text for rows[from, to): each service's block is formatted once per snapshot and view. */
export function rowTexts(rows: readonly ServiceRow[], from: number, to: number, view: ServiceView): string[] {
  const out: string[] = [];
  for (let i = from; i < Math.min(to, rows.length); i++) out.push(rows[i].text(view));
  return out;
}
