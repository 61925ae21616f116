/**
 * One line per event on stdout (info) or stderr (warnings, errors). Under systemd (JOURNAL_STREAM
 * set) each line starts with the syslog priority `<N>`, which journald turns into the entry's level.
 */
export type Level = "debug" | "info" | "notice" | "warning" | "error";

const PRIORITY: Record<Level, number> = { error: 3, warning: 4, notice: 5, info: 6, debug: 7 };

export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
}

function render(fields: Record<string, unknown> | undefined): string {
  if (!fields) return "";
  return Object.entries(fields)
    .map(([k, v]) => ` ${k}=${typeof v === "string" && !/\s|"/.test(v) ? v : JSON.stringify(v)}`)
    .join("");
}

export function createLogger(opts: { journal?: boolean; quiet?: boolean } = {}): Logger {
  const journal = opts.journal ?? Boolean(process.env.JOURNAL_STREAM);
  return {
    log(level, msg, fields) {
      if (opts.quiet && (level === "debug" || level === "info")) return;
      const line = journal
        ? `<${PRIORITY[level]}>${msg}${render(fields)}\n`
        : `${level} ${msg}${render(fields)}\n`;
      (PRIORITY[level] <= 4 ? process.stderr : process.stdout).write(line);
    },
  };
}
