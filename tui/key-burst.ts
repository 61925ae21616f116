/**
 * Ink splits its input at escape sequences only: keys that come in one read (typing fast, a slow
 * ssh link, tmux send-keys, a paste) reach useInput as one string, "/svc=1" or
 * "\t127.0.0.1:80\t\x7f\x7fsed", with no key flag set. This cuts such a burst back into the keys
 * it was, one character each, control characters as the keys Ink reports when they come alone: a
 * "/" that opens the filter, and the text after it, then each go where they belong.
 */
import type { Key } from "ink";

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/** The key one control character stands for, as Ink reports it when it comes alone. */
function controlKey(c: string): [string, Key] {
  if (c === "\t") return ["", { ...NO_KEY, tab: true }];
  if (c === "\r" || c === "\n") return ["", { ...NO_KEY, return: true }];
  if (c === "\x7f") return ["", { ...NO_KEY, delete: true }];
  if (c === "\b") return ["", { ...NO_KEY, backspace: true }];
  return [String.fromCharCode(c.charCodeAt(0) + 96), { ...NO_KEY, ctrl: true }];
}

/** The keys of one useInput event: itself, or the keys of a burst. */
export function splitBurst(input: string, key: Key): [string, Key][] {
  const chars = [...input];
  if (chars.length < 2 || key.ctrl || key.meta) return [[input, key]];
  return chars.map((c) => {
    const code = c.charCodeAt(0);
    return code < 0x20 || code === 0x7f ? controlKey(c) : [c, { ...NO_KEY, shift: /[A-Z]/.test(c) }];
  });
}
