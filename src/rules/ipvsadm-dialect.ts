/**
 * ipvsadm's save format as a rules file: the `-A …` / `-a …` lines `ipvsadm -S` prints (what
 * /etc/sysconfig/ipvsadm holds), read with ipvsadm's own parser. Blank lines and `#` comment
 * lines are accepted too (ipvsadm -R itself would refuse them).
 */
import type { NameDb } from "../cli/ipvsadm/names.ts";
import { directorOpOf } from "../cli/ipvsadm/ops.ts";
import { parseArgs } from "../cli/ipvsadm/parse.ts";
import { formatAddrPort } from "../model/addr.ts";
import type { DestConfig } from "../model/dest.ts";
import { type ServiceConfig, type ServiceId, serviceKey } from "../model/service.ts";
import { isSchedulerName } from "../sched/registry.ts";
import { type Diagnostics, type ListenEndpoint, posOf, type RulesConfig, type ServiceRule } from "./model.ts";
import { isUnicast } from "./values.ts";

export interface LineToken {
  text: string;
  col: number;
}

export interface SaveLine {
  line: number;
  /** Offsets of the line in the text, without its newline. */
  start: number;
  end: number;
  tokens: LineToken[];
}

/** Lines with their tokens (split on blanks, tabs and CRs; the word `ipvsadm` dropped). */
export function saveLines(text: string): SaveLine[] {
  const out: SaveLine[] = [];
  let start = 0;
  let line = 1;
  while (start <= text.length) {
    const nl = text.indexOf("\n", start);
    const end = nl < 0 ? text.length : nl;
    const tokens: LineToken[] = [];
    for (const m of text.slice(start, end).matchAll(/[^ \t\r]+/g)) {
      if (m[0] !== "ipvsadm") tokens.push({ text: m[0], col: (m.index ?? 0) + 1 });
    }
    const comment = tokens.length > 0 && tokens[0].text.startsWith("#");
    if (tokens.length > 0 && !comment) out.push({ line, start, end, tokens });
    if (nl < 0) break;
    start = nl + 1;
    line++;
  }
  return out;
}

/** The option words an ipvsadm message is about, to point at the right token. */
const MESSAGE_OPTIONS: [RegExp, string[]][] = [
  [/weight/, ["-w", "--weight"]],
  [/real server/, ["-r", "--real-server"]],
  [/virtual server address/, ["-t", "-u", "--tcp-service", "--udp-service", "--sctp-service"]],
  [/timeout/, ["-p", "--persistent"]],
  [/mask/, ["-M", "--netmask"]],
  [/fwmark/, ["-f", "--fwmark-service"]],
  [/scheduler flag/, ["-b", "--sched-flags"]],
  [/tun/, ["--tun-type", "--tun-port", "--tun-nocsum", "--tun-csum", "--tun-remcsum", "-i"]],
  [/u_threshold/, ["-x", "--u-threshold"]],
  [/l_threshold/, ["-y", "--l-threshold"]],
];

function errorColumn(l: SaveLine, message: string): number {
  const quoted = /`([^']*)'|^(\S+): |argument (\S+)$/.exec(message);
  const word = quoted?.[1] ?? quoted?.[2] ?? quoted?.[3];
  const byWord = word !== undefined ? l.tokens.find((t) => t.text === word) : undefined;
  if (byWord) return byWord.col;
  for (const [re, opts] of MESSAGE_OPTIONS) {
    if (!re.test(message)) continue;
    const t = l.tokens.find((x) =>
      opts.some(
        (o) => x.text === o || x.text.startsWith(`${o}=`) || (o.length === 2 && x.text.startsWith(o)),
      ),
    );
    if (t) return t.col;
  }
  return l.tokens[0].col;
}

function cleanMessage(message: string): string {
  const m = message.trim().replace(/\s*\n\s*/g, " ");
  if (m.startsWith("Try `")) return "not a rule: a line of an ipvsadm rules file starts with -A or -a";
  return m;
}

function listenOf(id: ServiceId, diags: Diagnostics, at: ReturnType<typeof posOf>): ListenEndpoint[] {
  if (id.kind === "addr" && id.port !== 0 && id.protocol !== "sctp")
    return [{ addr: id.addr, port: id.port, protocol: id.protocol }];
  const why =
    id.kind === "fwmark"
      ? "a fwmark service"
      : id.protocol === "sctp"
        ? "the proxy plane does not carry SCTP"
        : "a port-0 service";
  diags.warn(
    at,
    `${why}: the proxy plane will not listen for it (the save format has no proxy_listen; use the keepalived dialect)`,
  );
  return [];
}

class SaveReader {
  readonly services = new Map<string, ServiceRule>();
  constructor(
    readonly file: string,
    readonly diags: Diagnostics,
  ) {}

  private pos(l: SaveLine, col = l.tokens[0].col) {
    return posOf(this.file, l.line, col);
  }

  addService(l: SaveLine, id: ServiceId, config: ServiceConfig): void {
    const key = serviceKey(id);
    const at = this.pos(l);
    const prev = this.services.get(key);
    if (prev) {
      this.diags.error(at, `duplicate virtual service ${key} (already at line ${prev.pos.line})`);
      return;
    }
    if (!isSchedulerName(config.scheduler) && config.scheduler !== "none")
      this.diags.error(
        this.pos(l, errorColumn(l, `\`${config.scheduler}'`)),
        `unknown scheduler '${config.scheduler}'`,
      );
    if (config.peName && config.peName !== "sip")
      this.diags.error(at, `unknown persistence engine '${config.peName}': only 'sip' exists`);
    const src = { dialect: "ipvsadm" as const, file: this.file, line: l.line, start: l.start, end: l.end };
    this.services.set(key, {
      id,
      config,
      dests: [],
      listen: listenOf(id, this.diags, at),
      pos: at,
      sorryServer: null,
      quorum: 1,
      hysteresis: 0,
      kept: [],
      src,
    });
  }

  addDest(l: SaveLine, id: ServiceId, config: DestConfig): void {
    const key = serviceKey(id);
    const at = this.pos(l);
    const svc = this.services.get(key);
    if (!svc) {
      this.diags.error(at, `no -A line for service ${key} before this real server`);
      return;
    }
    const dkey = formatAddrPort(config.addr, config.port);
    const prev = svc.dests.find((d) => formatAddrPort(d.config.addr, d.config.port) === dkey);
    if (prev) {
      this.diags.error(at, `duplicate real server ${dkey} (already at line ${prev.pos.line})`);
      return;
    }
    if (!isUnicast(config.addr)) {
      this.diags.error(at, `real server address '${config.addr.text}' is not a unicast address`);
      return;
    }
    if (config.lThreshold > config.uThreshold) {
      this.diags.error(at, `l-threshold ${config.lThreshold} is above u-threshold ${config.uThreshold}`);
      return;
    }
    const src = { dialect: "ipvsadm" as const, file: this.file, line: l.line, start: l.start, end: l.end };
    svc.dests.push({ config, proxyProtocol: null, pos: at, checkers: [], kept: [], src });
  }

  line(l: SaveLine, names: NameDb): void {
    const r = parseArgs(
      l.tokens.map((t) => t.text),
      { argv0: "ipvsadm", names, readingStdin: true },
    );
    if (r.kind === "error") {
      this.diags.error(this.pos(l, errorColumn(l, r.message)), cleanMessage(r.message));
      return;
    }
    if (r.kind !== "command" || (r.command.cmd !== "add-service" && r.command.cmd !== "add-server")) {
      const what = r.kind === "command" ? r.command.cmd : r.kind;
      this.diags.error(
        this.pos(l),
        `'${what}' is not a rule: a rules file holds -A (add service) and -a (add server) lines`,
      );
      return;
    }
    const op = directorOpOf(r.command)?.op;
    if (op?.op === "add-service") this.addService(l, op.service, op.config);
    else if (op?.op === "add-server") this.addDest(l, op.service, op.dest);
  }
}

/** Parse a save-format text; never throws, problems go to `diags`. */
export function parseIpvsadmRules(
  text: string,
  file: string,
  names: NameDb,
  diags: Diagnostics,
): RulesConfig {
  const reader = new SaveReader(file, diags);
  for (const l of saveLines(text)) reader.line(l, names);
  return { dialect: "ipvsadm", file, files: [file], services: [...reader.services.values()], blocks: [] };
}
