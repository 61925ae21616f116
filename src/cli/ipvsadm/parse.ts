/**
 * ipvsadm 1.31's command line → a typed command, following parse_options() and the checks at the
 * start of process_options(). Errors carry ipvsadm's exact stderr text and exit status.
 */

import { genericOptCheck, listConflictCheck, parseSchedFlags, serverCheck, serviceCheck } from "./checks.ts";
import { type Command, newCommand } from "./command.ts";
import { fail, IpvsadmExit } from "./fail.ts";
import { tryHelpText } from "./help.ts";
import type { NameDb } from "./names.ts";
import { applyOption, MAX_TIMEOUT, parseTimeout } from "./option-handlers.ts";
import { COMMAND_OF, POPT_TABLE } from "./options.ts";
import { PoptContext } from "./popt.ts";

export interface ParseEnv {
  argv0: string;
  names: NameDb;
  /** true for lines of -R input, where a nested -R is refused */
  readingStdin?: boolean;
}

export type Parsed = { kind: "help" } | { kind: "version" } | { kind: "command"; command: Command };

export type ParseOutcome = Parsed | { kind: "error"; message: string; exitCode: number };

function tryHelp(argv0: string): never {
  throw new IpvsadmExit(255, tryHelpText(argv0));
}

function daemonState(arg: string | null, message: string): "master" | "backup" {
  if (arg === "master" || arg === "backup") return arg;
  fail(message);
}

/** The first option must be a command; anything else gets the "Try ... -h" hint (exit 255). */
function firstCommand(ctx: PoptContext, env: ParseEnv): Parsed {
  const ev = ctx.getNextOpt();
  if (ev.type !== "option") tryHelp(env.argv0);
  const cmd = COMMAND_OF[ev.opt.val];
  if (!cmd) tryHelp(env.argv0);
  if (cmd === "help" || cmd === "version") return { kind: cmd };
  if (cmd === "restore" && env.readingStdin) tryHelp(env.argv0);
  const ce = newCommand(cmd);
  if (cmd === "start-daemon")
    ce.daemon.state = daemonState(ev.arg, "illegal start-daemon parameter specified");
  if (cmd === "stop-daemon") ce.daemon.state = daemonState(ev.arg, "illegal start_daemon specified");
  return { kind: "command", command: ce };
}

function leftoverChecks(ce: Command, leftovers: string[]): void {
  let next = 0;
  if (ce.cmd === "set") {
    if (leftovers.length < 3) fail("--set option requires 3 timeout values");
    ce.timeouts.tcp = parseTimeout(leftovers[0], 0, MAX_TIMEOUT);
    ce.timeouts.tcpfin = parseTimeout(leftovers[1], 0, MAX_TIMEOUT);
    ce.timeouts.udp = parseTimeout(leftovers[2], 0, MAX_TIMEOUT);
    next = 3;
  }
  if (next < leftovers.length) fail(`unexpected argument ${leftovers[next]}`);
}

function postChecks(ce: Command, schedFlagsArg: string | null): void {
  if (schedFlagsArg !== null) ce.svc.flags |= parseSchedFlags(ce.svc.schedName, schedFlagsArg);
  genericOptCheck(ce);
  if (ce.cmd === "list") listConflictCheck(ce);
  if (ce.cmd === "add-service" || ce.cmd === "edit-service") serviceCheck(ce);
  if (ce.cmd === "add-server" || ce.cmd === "edit-server") serverCheck(ce);
  if (ce.cmd === "save") ce.format.rule = true;
}

/** Parse, throwing IpvsadmExit on any error (as ipvsadm exits). */
export function parseCommandLine(args: readonly string[], env: ParseEnv): Parsed {
  const ctx = new PoptContext(POPT_TABLE, args);
  const first = firstCommand(ctx, env);
  if (first.kind !== "command") return first;
  const ce = first.command;
  const schedFlags = { arg: null as string | null };
  const optEnv = { names: env.names, badOption: () => ctx.badOption() };
  for (;;) {
    const ev = ctx.getNextOpt();
    if (ev.type === "end") break;
    if (ev.type === "error") throw new IpvsadmExit(255, `${ctx.badOption()}: ${ev.message}\n`);
    applyOption(ce, ev.opt.val, ev.arg, optEnv, schedFlags);
  }
  leftoverChecks(ce, ctx.leftovers);
  postChecks(ce, schedFlags.arg);
  return first;
}

/** Parse without throwing: the error form carries the stderr text and the exit status. */
export function parseArgs(args: readonly string[], env: ParseEnv): ParseOutcome {
  try {
    return parseCommandLine(args, env);
  } catch (e) {
    if (e instanceof IpvsadmExit) return { kind: "error", message: e.stderr, exitCode: e.code };
    throw e;
  }
}
