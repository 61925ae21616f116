/** Small helpers the subprocess and namespace tests share. */
import type { Subprocess } from "bun";

/** Poll `cond` every `step` ms for up to `ms`; true as soon as it holds, else its last answer. */
export async function eventually(
  cond: () => boolean | Promise<boolean>,
  ms: number,
  step = 100,
): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await Bun.sleep(step);
  }
  return cond();
}

/** Read a piped subprocess's stdout and stderr as they come; the getter returns all so far. */
export function collectOutput(proc: Subprocess<"ignore" | "pipe" | "inherit", "pipe", "pipe">): () => string {
  let out = "";
  const collect = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) out += dec.decode(chunk);
  };
  void collect(proc.stdout);
  void collect(proc.stderr);
  return () => out;
}

/** A process running in a network namespace, with its output as it comes. */
export interface NsProc {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  out: () => string;
}

/** Start `argv` in namespace `ns` (ip netns exec); it is added to `procs`, for the caller's cleanup. */
export function spawnInNs(ns: string, argv: string[], procs: Subprocess[]): NsProc {
  const proc = Bun.spawn(["ip", "netns", "exec", ns, ...argv], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  procs.push(proc);
  return { proc, out: collectOutput(proc) };
}
