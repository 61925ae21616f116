/**
 * keepalived's notify scripts: `notify_master` / `_backup` / `_fault` / `_stop` run as written;
 * `notify` gets `TYPE NAME STATE PRIORITY` (TYPE INSTANCE or GROUP, STATE in capitals). Scripts
 * run through /bin/sh (keepalived splits the line into words; quoting behaves the same for the
 * usual `/path/script arg`), detached from the daemon's event loop; a failure is logged, never thrown.
 */
import type { NotifyScripts } from "../vrrp-config.ts";
import type { NotifyKind } from "../vrrp-machine.ts";

export type NotifyLog = (msg: string, fields: Record<string, unknown>) => void;

const KEY: Record<NotifyKind, keyof NotifyScripts> = {
  master: "master",
  backup: "backup",
  fault: "fault",
  stop: "stop",
  master_rx_lower_pri: "masterRxLowerPri",
};

/** The command lines to run for `kind` (pure): the specific script, then `notify` with its arguments. */
export function notifyCommands(
  scripts: NotifyScripts,
  kind: NotifyKind,
  type: "INSTANCE" | "GROUP",
  name: string,
  priority: number,
): string[][] {
  const out: string[][] = [];
  const specific = scripts[KEY[kind]];
  if (specific) out.push(["/bin/sh", "-c", specific]);
  // keepalived passes no state for master_rx_lower_pri to the generic notify
  if (scripts.any && kind !== "master_rx_lower_pri")
    out.push([
      "/bin/sh",
      "-c",
      `${scripts.any} "$@"`,
      "sh",
      type,
      name,
      kind.toUpperCase(),
      String(priority),
    ]);
  return out;
}

/** Start the scripts; resolves when they have all exited (callers need not wait). */
export async function runNotify(cmds: string[][], log: NotifyLog, timeoutMs = 30_000): Promise<void> {
  await Promise.all(
    cmds.map(async (cmd) => {
      try {
        const p = Bun.spawn(cmd, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
        const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
        const err = (await new Response(p.stderr).text()).trim();
        const code = await p.exited;
        clearTimeout(timer);
        if (code !== 0) log("notify script failed", { script: cmd.slice(2).join(" "), code, stderr: err });
      } catch (e) {
        log("notify script could not start", { script: cmd.slice(2).join(" "), error: (e as Error).message });
      }
    }),
  );
}
