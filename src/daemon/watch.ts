import { statSync, watch } from "node:fs";
import { basename, dirname } from "node:path";

/**
 * Call `onChange` (debounced) when `path` changes. The folder is watched rather than the file so
 * an atomic replace (rename over it, as editors and our own write-back do) is seen; a 500 ms stat
 * poll catches what inotify misses (network filesystems, a folder created later).
 */
export function watchFile(path: string, onChange: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const fire = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, 100);
  };
  let watcher: ReturnType<typeof watch> | null = null;
  try {
    watcher = watch(dirname(path), (_ev, name) => {
      if (name === null || name === basename(path)) fire();
    });
    watcher.on("error", () => {});
  } catch {
    watcher = null;
  }
  const sig = () => {
    try {
      const s = statSync(path);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return "missing";
    }
  };
  let last = sig();
  const poll = setInterval(() => {
    const now = sig();
    if (now !== last) {
      last = now;
      fire();
    }
  }, 500);
  return () => {
    watcher?.close();
    clearInterval(poll);
    if (timer) clearTimeout(timer);
  };
}
