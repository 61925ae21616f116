#!/usr/bin/env bun
/**
 * uvs: one entry for every job. `uvs ipvsadm ARGS…` is ipvsadm, and so is `uvs ARGS…` when the
 * first argument is an option. Global options (`--state FILE`, `--control SOCKET`) come first.
 */
// Commands load their modules when they run: `uvs bench` or `uvs -Ln` do not parse the daemon,
// the TUI (React, Ink) and the rest (about 30 ms of CPU at every start).
import { UVS_HELP, UVS_VERSION } from "./cli/help.ts";
import { DEFAULT_CONTROL_SOCKET } from "./control/protocol.ts";
import type { DirectorBackend } from "./director/api.ts";

interface Globals {
  state?: string;
  control?: string;
}

/** Peel `--state FILE` / `--control SOCKET` off the front of argv. */
function globals(argv: string[]): { g: Globals; rest: string[] } {
  const g: Globals = {
    state: process.env.UVS_STATE || undefined,
    control: process.env.UVS_CONTROL || undefined,
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if ((a === "--state" || a === "--control") && i + 1 < argv.length)
      g[a.slice(2) as keyof Globals] = argv[++i];
    else if (a.startsWith("--state=")) g.state = a.slice(8);
    else if (a.startsWith("--control=")) g.control = a.slice(10);
    else break;
  }
  return { g, rest: argv.slice(i) };
}

async function backendFor(g: Globals): Promise<DirectorBackend> {
  if (g.state) return (await import("./director/offline-backend.ts")).openOfflineBackend(g.state);
  return (await import("./control/backend.ts")).openDaemonBackend(g.control ?? DEFAULT_CONTROL_SOCKET);
}

async function ipvsadm(args: string[], g: Globals): Promise<number> {
  const { runIpvsadm } = await import("./cli/ipvsadm/run.ts");
  const r = await runIpvsadm(args, {
    argv0: "ipvsadm",
    readStdin: () => Bun.stdin.text(),
    openBackend: () => backendFor(g),
  });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return r.code;
}

async function main(argv: string[]): Promise<number> {
  const { g, rest } = globals(argv);
  const [cmd, ...args] = rest;
  const control = g.control ?? DEFAULT_CONTROL_SOCKET;
  const tui = async (a: string[]) =>
    (await import("./cli/tui.ts")).runTui(g.state ? ["--state", g.state, ...a] : a, control);
  // Plain `uvs` on a terminal is the TUI; anywhere else it prints the usage.
  if (cmd === undefined) {
    if (process.stdout.isTTY && process.stdin.isTTY) return tui([]);
    process.stdout.write(UVS_HELP);
    return 0;
  }
  if (cmd === "help") {
    process.stdout.write(UVS_HELP);
    return 0;
  }
  if (cmd.startsWith("-")) {
    const code = await ipvsadm(rest, g);
    // ipvsadm's help stays byte for byte on stdout; the operator who asked uvs for help also
    // learns where uvs's own commands are.
    if (rest.length === 1 && (cmd === "-h" || cmd === "--help"))
      process.stderr.write(
        "uvs: that is ipvsadm's help; `uvs help` lists uvs's own commands (run, check, bench, tui …)\n",
      );
    return code;
  }
  switch (cmd) {
    case "ipvsadm":
      return ipvsadm(args, g);
    case "simulate":
      return (await import("./cli/simulate.ts")).runSimulate(args, g.state, {
        stdin: Bun.stdin.stream(),
        out: (l) => process.stdout.write(`${l}\n`),
        err: (t) => process.stderr.write(t),
      });
    case "demo":
      return (await import("./cli/demo.ts")).runDemo(args);
    case "run":
      return (await import("./cli/run.ts")).runDaemon(args, g.control);
    case "snapshot":
      return (await import("./cli/control-commands.ts")).runSnapshot(control);
    case "reload":
      return (await import("./cli/control-commands.ts")).runReload(args, control);
    case "backend":
      return (await import("./cli/backend.ts")).runBackend(args);
    case "realserver":
      return (await import("./cli/realserver.ts")).runRealserver(args);
    case "lab":
      return (await import("./cli/lab.ts")).runLab(args);
    case "bench":
      return (await import("./cli/bench.ts")).runBenchCli(args);
    case "tui":
      return tui(args);
    case "health":
      return (await import("./cli/health.ts")).runHealthCli(args, control);
    case "ha":
      return (await import("./cli/ha.ts")).runHaCli(args, control);
    case "import":
      return (await import("./cli/import.ts")).runImportCli(args);
    case "check":
      return (await import("./cli/check.ts")).runCheck(args, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
      });
    case "version":
      process.stdout.write(`${UVS_VERSION}\n`);
      return 0;
    default:
      process.stderr.write(`uvs: unknown command ${JSON.stringify(cmd)}; see \`uvs help\`\n`);
      return 2;
  }
}

// ipvsadm is also reachable as a link named ipvsadm to this binary. A compiled binary sees the
// name it was invoked by in argv0; under `bun script` argv0 is bun and the script is argv[1].
const invokedAs = (p: string | undefined) => (p ?? "").split("/").pop()?.replace(/\.ts$/, "");
const argv0 = invokedAs(process.argv0);
const self = argv0 === "bun" || argv0 === "node" ? invokedAs(process.argv[1]) : argv0;
const argv = process.argv.slice(2);
main(self === "ipvsadm" ? ["ipvsadm", ...argv] : argv).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`uvs: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
