#!/usr/bin/env bun
/**
 * Build the single `uvs` binary: `bun scripts/build.ts [--outfile PATH] [--entry FILE]`.
 *
 * Ink imports `react-devtools-core` for its DEV mode only, but the bundler hoists that import, and
 * `bun build --compile` fails on it (marking it external makes the binary die at start). A plugin
 * resolves it to a stub module instead (shared/specs/bun-platform.md, "Ink + React in a compiled
 * binary").
 */
import { relative, resolve } from "node:path";
import type { BunPlugin } from "bun";
import { WORKER_FROM_SRC } from "../src/dataplane/packet/engine/plane.ts";
import { WAKER_FROM_SRC } from "../src/dataplane/proxy/epoll/loop.ts";
import { RELAY_FROM_SRC } from "../src/dataplane/proxy/epoll/relay.ts";

const DEVTOOLS_STUB = "export default { initialize() {}, connectToDevTools() {} };\n";

/** Resolve `react-devtools-core` to a do-nothing module. */
export const devtoolsStub: BunPlugin = {
  name: "react-devtools-core-stub",
  setup(build) {
    build.onResolve({ filter: /^react-devtools-core$/ }, (args) => ({ path: args.path, namespace: "stub" }));
    build.onLoad({ filter: /.*/, namespace: "stub" }, () => ({ contents: DEVTOOLS_STUB, loader: "js" }));
  },
};


export interface BuildOptions {
  /** @default "src/main.ts" */
  entry?: string;
  /** @default "dist/uvs" */
  outfile?: string;
}

/** Compile `entry` into a standalone executable; throws with the bundler's messages on failure. */
export async function buildBinary(opts: BuildOptions = {}): Promise<string> {
  const root = `${import.meta.dir}/..`;
  const entry = opts.entry ?? `${root}/src/main.ts`;
  const outfile = opts.outfile ?? `${root}/dist/uvs`;
  // The binary keeps entry points at their paths below their common folder; the plane looks for
  // its worker at WORKER_FROM_SRC below it, so that folder must be src/.
  if (relative(resolve(root, "src"), resolve(entry)).startsWith(".."))
    throw new Error(`build: the entry ${entry} must be under src/ (the packet worker is found relative to it)`);
  const result = await Bun.build({
    // Workers are entry points of their own (compiled binaries embed only listed files): the
    // packet plane's worker, the epoll proxy engine's waker and its relay threads.
    entrypoints: [
      entry,
      `${root}/src/${WORKER_FROM_SRC}`,
      `${root}/src/${WAKER_FROM_SRC}`,
      `${root}/src/${RELAY_FROM_SRC}`,
    ],
    compile: { outfile },
    target: "bun",
    // Precompiled JSC bytecode: the binary starts without parsing its several MB of JavaScript
    // (measured: `uvs bench -n 1` 45-64 ms of CPU -> 14 ms). ESM, as Ink and Yoga use top-level await.
    // Split into chunks: a command loads only its own (main.ts imports commands on demand), so
    // `uvs help` takes 7-10 ms instead of 14-31 (no bytecode of the TUI, React, Ink to load).
    bytecode: true,
    format: "esm",
    splitting: true,
    minify: { syntax: true, whitespace: true },
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
    plugins: [devtoolsStub],
  });
  if (!result.success) {
    const msgs = result.logs.map((l) => String(l)).join("\n");
    throw new Error(`build of ${entry} failed:\n${msgs}`);
  }
  return outfile;
}

if (import.meta.main) {
  const args = Bun.argv.slice(2);
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  try {
    const out = await buildBinary({ entry: opt("--entry"), outfile: opt("--outfile") });
    process.stdout.write(`built ${out}\n`);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
}
