/**
 * How to run this uvs again in another namespace: a compiled binary is its own executable (its
 * modules live under /$bunfs); under `bun` it is bun plus src/main.ts next to this module.
 */
import { join } from "node:path";

export function selfCommand(): string[] {
  if (import.meta.dir.startsWith("/$bunfs")) return [process.execPath];
  return [process.execPath, join(import.meta.dir, "../main.ts")];
}
