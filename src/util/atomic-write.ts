import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  openSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * Replace `path` with `data` so that readers see the old file or the new one, never a part:
 * write a temporary file beside it, fsync it, rename it over the original, fsync the folder.
 * A symlink is followed (the file it names is replaced, the link stays: configuration management
 * often links /etc/uvs/uvs.conf to its checkout), and the file keeps its mode and, as root, its
 * owner (a rules file with VRRP passwords may be 0600).
 */
export function writeFileAtomic(path: string, data: string): void {
  const target = resolved(path);
  const dir = dirname(target);
  const old = existing(target);
  const tmp = join(dir, `.${basename(target)}.uvs-tmp-${process.pid}-${Date.now()}`);
  const fd = openSync(tmp, "w", old?.mode ?? 0o644);
  try {
    if (old) {
      fchmodSync(fd, old.mode); // past the umask
      if (process.getuid?.() === 0 && (old.uid !== 0 || old.gid !== 0)) fchownSync(fd, old.uid, old.gid);
    }
    writeSync(fd, data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {}
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, target);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {}
    throw e;
  }
  try {
    const dfd = openSync(dir, "r");
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}

/** The file a path names through its symlinks; the path itself when it does not exist yet. */
function resolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function existing(path: string): { mode: number; uid: number; gid: number } | null {
  try {
    const s = statSync(path);
    return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
  } catch {
    return null;
  }
}
