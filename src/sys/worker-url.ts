/**
 * Where a Worker module is. Under `bun` it is the file `fromSrc` names, next to the module asking
 * (`here`); a compiled binary embeds its entry points at their paths below their common folder
 * (src/) under /$bunfs/root/, where import.meta.url is the executable's own name — so the worker
 * is found from there. `scripts/build.ts` lists every such module as an entry point.
 */
export function workerEntryUrl(fromSrc: string, here: string): string {
  if (here.startsWith("file:///$bunfs/")) return new URL(`./${fromSrc}`, here).href;
  return new URL(`./${fromSrc.slice(fromSrc.lastIndexOf("/") + 1)}`, here).href;
}
