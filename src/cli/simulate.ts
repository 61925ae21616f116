/** `uvs simulate --state FILE [--seed N]`: JSON-lines operations on stdin, decisions on stdout. */
import { readStateFile } from "../director/offline-backend.ts";
import { Simulation } from "../director/simulate.ts";
import { directorFromSnapshot } from "../director/snapshot-io.ts";
import { seededRandom } from "../sched/twos.ts";

export interface CliIo {
  stdin: AsyncIterable<string> | ReadableStream<Uint8Array>;
  out(line: string): void;
  err(text: string): void;
}

export const SIMULATE_USAGE = "usage: uvs simulate --state FILE [--seed N] < ops.jsonl\n";

export async function runSimulate(
  args: string[],
  stateFromEnv: string | undefined,
  io: CliIo,
): Promise<number> {
  let state = stateFromEnv;
  let seed = 1;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--state" && i + 1 < args.length) state = args[++i];
    else if (a.startsWith("--state=")) state = a.slice(8);
    else if (a === "--seed" && i + 1 < args.length && /^\d+$/.test(args[i + 1])) seed = Number(args[++i]);
    else if (a === "-h" || a === "--help") {
      io.out(SIMULATE_USAGE.trimEnd());
      return 0;
    } else {
      io.err(`uvs simulate: unexpected argument ${JSON.stringify(a)}\n${SIMULATE_USAGE}`);
      return 2;
    }
  }
  if (!state) {
    io.err(`uvs simulate: no state snapshot given\n${SIMULATE_USAGE}`);
    return 2;
  }
  let sim: Simulation;
  try {
    sim = new Simulation(directorFromSnapshot(readStateFile(state), { random: seededRandom(seed) }));
  } catch (e) {
    io.err(`uvs simulate: ${(e as Error).message}\n`);
    return 2;
  }
  let lineNo = 0;
  for await (const line of lines(io.stdin)) {
    const out = sim.run(line, ++lineNo);
    if (out !== null) io.out(out);
  }
  return 0;
}

async function* lines(src: AsyncIterable<string> | ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of src as AsyncIterable<string | Uint8Array>) {
    buf += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      yield buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
    }
  }
  buf += decoder.decode();
  if (buf.length) yield buf;
}
