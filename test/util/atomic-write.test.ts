/** writeFileAtomic: whole files only, through symlinks, keeping the file's mode and owner. */
import { afterAll, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../../src/util/atomic-write.ts";

const dir = mkdtempSync(join(tmpdir(), "uvs-atomic-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a symlinked file is written where the link points; the link stays a link", () => {
  mkdirSync(join(dir, "checkout"));
  writeFileSync(join(dir, "checkout", "uvs.conf"), "old\n");
  symlinkSync("checkout/uvs.conf", join(dir, "uvs.conf"));
  writeFileAtomic(join(dir, "uvs.conf"), "new\n");
  expect(lstatSync(join(dir, "uvs.conf")).isSymbolicLink()).toBe(true);
  expect(readFileSync(join(dir, "checkout", "uvs.conf"), "utf8")).toBe("new\n");
  // No temporary file is left beside either.
  expect(readdirSync(join(dir, "checkout"))).toEqual(["uvs.conf"]);
});

test("the file keeps its mode (a rules file with VRRP passwords may be 0600)", () => {
  const f = join(dir, "secret.conf");
  writeFileSync(f, "a\n");
  chmodSync(f, 0o600);
  writeFileAtomic(f, "b\n");
  expect(statSync(f).mode & 0o777).toBe(0o600);
  expect(readFileSync(f, "utf8")).toBe("b\n");
  const fresh = join(dir, "fresh.conf");
  writeFileAtomic(fresh, "c\n");
  expect(statSync(fresh).mode & 0o777).toBe(0o644 & ~process.umask());
});

test.skipIf(process.getuid?.() !== 0)("as root, the file keeps its owner (needs root)", () => {
  const f = join(dir, "owned.conf");
  writeFileSync(f, "a\n");
  chownSync(f, 65534, 65534);
  writeFileAtomic(f, "b\n");
  expect([statSync(f).uid, statSync(f).gid]).toEqual([65534, 65534]);
});
