/**
 * The typed result of a rules file, whatever its dialect: what the daemon consumes. Every rule
 * keeps its position and a link to the text it came from, so reload plans and write-back can
 * name and edit exactly that place.
 */
import type { IpAddr } from "../model/addr.ts";
import type { DestConfig } from "../model/dest.ts";
import type { ServiceConfig, ServiceId } from "../model/service.ts";
import type { Stmt } from "./cst.ts";

/** 1-based line and column (UTF-16 code units, a tab counts one). */
export interface Pos {
  file: string;
  line: number;
  col: number;
}

export interface Diagnostic {
  severity: "error" | "warning";
  pos: Pos;
  message: string;
}

/** Where the userspace proxy listens for a service. */
export interface ListenEndpoint {
  addr: IpAddr;
  port: number;
  protocol: "tcp" | "udp";
}

/** A health checker block, kept as written until the health module acts on it. */
export interface CheckerRule {
  /** TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, DNS_CHECK, UDP_CHECK, SMTP_CHECK, PING_CHECK, … */
  type: string;
  pos: Pos;
  stmt: Stmt;
}

/** Where a rule came from in its file (for write-back). */
export type RuleSource =
  | { dialect: "keepalived"; stmt: Stmt; group: { name: string; entry: Stmt; groupStmt: Stmt } | null }
  | { dialect: "ipvsadm"; file: string; line: number; start: number; end: number };

export interface DestRule {
  config: DestConfig;
  proxyProtocol: "v1" | "v2" | null;
  pos: Pos;
  checkers: CheckerRule[];
  /** Statements uvs keeps but does not act on yet (notify_up, inhibit_on_failure, …). */
  kept: Stmt[];
  src: RuleSource;
}

export interface SorryServer {
  addr: IpAddr;
  port: number;
  pos: Pos;
}

export interface ServiceRule {
  id: ServiceId;
  config: ServiceConfig;
  /** In file order: adding them in this order gives the kernel list (newest first). */
  dests: DestRule[];
  listen: ListenEndpoint[];
  pos: Pos;
  sorryServer: SorryServer | null;
  /** keepalived's quorum (default 1) and hysteresis (default 0); not acted on yet. */
  quorum: number;
  hysteresis: number;
  /** Statements uvs keeps but does not act on yet (delay_loop, alpha, quorum_up, …). */
  kept: Stmt[];
  src: RuleSource;
}

export interface RulesConfig {
  dialect: "keepalived" | "ipvsadm";
  /** The file that was loaded (includes are listed in `files`). */
  file: string;
  files: string[];
  services: ServiceRule[];
  /** Top-level blocks other than virtual servers (global_defs, vrrp_instance, …), kept as written. */
  blocks: Stmt[];
}

export const posOf = (file: string, line: number, col: number): Pos => ({ file, line, col });

export function formatPos(p: Pos): string {
  return `${p.file}:${p.line}:${p.col}`;
}

/** `FILE:LINE:COL: error: message`, as compilers print. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${formatPos(d.pos)}: ${d.severity}: ${d.message}`;
}

/** Collects diagnostics; analysis goes on after an error so every problem is reported. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  error(pos: Pos, message: string): void {
    this.add({ severity: "error", pos, message });
  }
  warn(pos: Pos, message: string): void {
    this.add({ severity: "warning", pos, message });
  }
  /** A group's members share one block: the same finding at the same place is reported once. */
  private add(d: Diagnostic): void {
    const key = `${d.severity}|${formatPos(d.pos)}|${d.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(d);
  }
  get hasErrors(): boolean {
    return this.list.some((d) => d.severity === "error");
  }
}

/** Diagnostics by file (in the order given, others last), then line and column; stable. */
export function sortDiagnostics(list: readonly Diagnostic[], files: readonly string[] = []): Diagnostic[] {
  const rank = (f: string) => {
    const i = files.indexOf(f);
    return i < 0 ? files.length : i;
  };
  return [...list].sort(
    (a, b) => rank(a.pos.file) - rank(b.pos.file) || a.pos.line - b.pos.line || a.pos.col - b.pos.col,
  );
}
