/**
 * Scripts (MISC_CHECK, notify_up/down, quorum_up/down): split like keepalived splits a command
 * line (whitespace, single and double quotes, no shell), run in their own process group, and at
 * the timeout SIGTERM the whole group, then SIGKILL 2 s later. Never throws.
 */
import { spawn } from "node:child_process";
import { reason } from "./result.ts";

export const KILL_GRACE_MS = 2000;

export function splitCommand(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1]?.replace(/\\(.)/g, "$1") ?? m[2] ?? m[3]);
  return out;
}

export type RunOutcome =
  | { kind: "exit"; code: number }
  | { kind: "signal"; signal: string }
  | { kind: "timeout" }
  | { kind: "error"; reason: string };

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

/** Run `line` with a timeout; `signal` aborts it the same way (a checker removed by a reload). */
export function runCommand(line: string, timeoutMs: number, signal?: AbortSignal): Promise<RunOutcome> {
  const argv = splitCommand(line);
  if (!argv.length) return Promise.resolve({ kind: "error", reason: "empty command" });
  return new Promise((resolve) => {
    let timedOut = false;
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: "ignore" });
    const stop = () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      killGroup(child.pid, "SIGTERM");
      setTimeout(() => child.pid !== undefined && killGroup(child.pid, "SIGKILL"), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    signal?.addEventListener("abort", stop, { once: true });
    const finish = (o: RunOutcome) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", stop);
      // No clearTimeout of the SIGKILL: the group may outlive its leader and still gets it 2 s later.
      resolve(o);
    };
    child.once("error", (e) => finish({ kind: "error", reason: reason(e) }));
    child.once("exit", (code, sig) => {
      if (timedOut) finish({ kind: "timeout" });
      else if (code !== null) finish({ kind: "exit", code });
      else finish({ kind: "signal", signal: sig ?? "unknown" });
    });
  });
}

/** Fire and forget (notify scripts): logged by the caller, bounded by `timeoutMs`. */
export function runNotify(line: string, timeoutMs: number, log: (msg: string) => void): void {
  void runCommand(line, timeoutMs).then((o) => {
    if (o.kind === "exit" && o.code === 0) return;
    const why =
      o.kind === "exit"
        ? `exit ${o.code}`
        : o.kind === "signal"
          ? o.signal
          : o.kind === "timeout"
            ? "timed out"
            : o.reason;
    log(`script ${JSON.stringify(line)} failed: ${why}`);
  });
}
