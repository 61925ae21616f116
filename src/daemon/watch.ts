import { type FSWatcher, statSync, watch } from "node:fs";
import { basename, dirname } from "node:path";

/** What to watch: the files of the configuration and the folders where one may appear. */
export interface WatchTargets {
  files: readonly string[];
  dirs: readonly string[];
}

/**
 * Call `onChange` (debounced) when the rules change: any of `targets().files`, or a file appearing
 * or going in `targets().dirs` (an include glob's folder). Folders are watched rather than files so
 * an atomic replace (rename over it, as editors and our own write-back do) is seen; a 500 ms stat
 * poll catches what inotify misses (network filesystems, a folder created later) and follows the
 * targets as includes come and go. `onChange` decides whether anything that matters changed.
 */
export function watchRules(targets: () => WatchTargets, onChange: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const fire = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, 100);
  };
  // By folder: what its events are filtered by (re-made when that changes) and the watcher.
  const watchers = new Map<string, { key: string; w: FSWatcher | null }>();
  const follow = (t: WatchTargets) => {
    const want = new Map<string, Set<string> | null>();
    for (const d of t.dirs) want.set(d, null); // any file of an include folder counts
    for (const f of t.files) {
      const names = want.get(dirname(f));
      if (names === undefined) want.set(dirname(f), new Set([basename(f)]));
      else names?.add(basename(f));
    }
    for (const [d, cur] of watchers)
      if (!want.has(d)) {
        cur.w?.close();
        watchers.delete(d);
      }
    for (const [d, names] of want) {
      const key = names === null ? "*" : [...names].sort().join("/");
      const cur = watchers.get(d);
      if (cur?.w && cur.key === key) continue;
      cur?.w?.close();
      watchers.set(d, { key, w: watchDir(d, names, fire) });
    }
  };
  const sig = (t: WatchTargets) => [...t.files, ...t.dirs].map(statSig).join("|");
  let now = targets();
  follow(now);
  let last = sig(now);
  const poll = setInterval(() => {
    now = targets();
    follow(now);
    const s = sig(now);
    if (s !== last) {
      last = s;
      fire();
    }
  }, 500);
  return () => {
    for (const cur of watchers.values()) cur.w?.close();
    clearInterval(poll);
    if (timer) clearTimeout(timer);
  };
}

/** Watch one folder (events of `names` only, or all); null when it cannot be watched (yet): the poll retries. */
function watchDir(dir: string, names: ReadonlySet<string> | null, fire: () => void): FSWatcher | null {
  try {
    const w = watch(dir, (_ev, name) => {
      if (name === null || names === null || names.has(name)) fire();
    });
    w.on("error", () => {});
    return w;
  } catch {
    return null;
  }
}

/** A file's or folder's identity and change stamp ("missing" when it is not there). */
function statSig(path: string): string {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return "missing";
  }
}
