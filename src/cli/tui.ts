/**
 * `uvs tui` (and plain `uvs` on a terminal): the Ink TUI over the running daemon's control socket,
 * or over a state snapshot file with `--state FILE`. Runs in the terminal's alternate screen and
 * restores it on exit (q, Ctrl-C, SIGTERM, SIGHUP).
 */
import { createElement } from "react";
import { daemonSource, stateFileSource } from "../../tui/sources.ts";
import type { BenchRunner, DataSource } from "../../tui/types.ts";

export const TUI_USAGE = "usage: uvs tui [--state FILE] [--control SOCKET] [--refresh MS]\n";

interface TuiOptions {
  state?: string;
  control: string;
  refreshMs: number;
}

function parseTuiArgs(args: string[], control: string): TuiOptions | string {
  const o: TuiOptions = { state: process.env.UVS_STATE || undefined, control, refreshMs: 250 };
  for (let i = 0; i < args.length; i++) {
    const [k, inline] = args[i].split(/=(.*)/s, 2) as [string, string | undefined];
    if (k === "-h" || k === "--help") return "";
    const v = inline ?? args[++i];
    if (v === undefined) return `uvs tui: ${k} needs a value\n${TUI_USAGE}`;
    if (k === "--state") o.state = v;
    else if (k === "--control") o.control = v;
    else if (k === "--refresh") {
      if (!/^\d+$/.test(v)) return `uvs tui: --refresh: expected milliseconds, got ${JSON.stringify(v)}\n`;
      o.refreshMs = Math.max(250, Number(v));
    } else return `uvs tui: unknown option ${JSON.stringify(k)}\n${TUI_USAGE}`;
  }
  return o;
}

/** The real load generator, if this build has it. */
async function loadBench(): Promise<BenchRunner | null> {
  try {
    const m = await import("../bench/api.ts");
    return { startBench: m.startBench, formatReport: m.formatReport } as BenchRunner;
  } catch {
    return null;
  }
}

const ALT_SCREEN_ON = "\x1b[?1049h\x1b[H";
const ALT_SCREEN_OFF = "\x1b[?25h\x1b[?1049l";

export async function runTui(args: string[], control: string): Promise<number> {
  const o = parseTuiArgs(args, control);
  if (typeof o === "string") {
    (o ? process.stderr : process.stdout).write(o || TUI_USAGE);
    return o ? 2 : 0;
  }
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    process.stderr.write("uvs tui: needs a terminal (for a listing without one: uvs -Ln)\n");
    return 2;
  }
  const source: DataSource = o.state ? stateFileSource(o.state) : daemonSource(o.control);
  try {
    await source.snapshot();
  } catch (e) {
    source.close();
    const hint = o.state
      ? ""
      : "\n(start one with `uvs run`, try `uvs demo`, or look at a state file with --state FILE)";
    process.stderr.write(`uvs tui: ${(e as Error).message}${hint}\n`);
    return 1;
  }
  // Ink renders for CI logs when CI is set (is-in-ci, read when Ink loads): this is a terminal.
  delete process.env.CI;
  const [{ render }, { App }, bench] = await Promise.all([
    import("ink"),
    import("../../tui/App.tsx"),
    loadBench(),
  ]);
  process.stdout.write(ALT_SCREEN_ON);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.stdout.write(ALT_SCREEN_OFF);
  };
  const app = render(createElement(App, { source, bench, refreshMs: o.refreshMs }), {
    exitOnCtrlC: true,
    maxFps: 4,
    // Ink's incremental mode rewrites only the lines it thinks changed; after the first data
    // arrived it left stale lines on screen (seen in tmux at 100×24). Whole frames are correct.
    incrementalRendering: false,
  });
  const stop = () => app.unmount();
  process.once("SIGTERM", stop);
  process.once("SIGHUP", stop);
  process.once("exit", restore);
  try {
    await app.waitUntilExit();
    return 0;
  } catch (e) {
    restore();
    process.stderr.write(`uvs tui: ${(e as Error).message}\n`);
    return 1;
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGHUP", stop);
    app.cleanup();
    restore();
    source.close();
  }
}
