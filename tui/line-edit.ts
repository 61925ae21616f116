/**
 * One-line text editing as a pure step: (text and cursor, key) → the next. Forms and the
 * connection filter keep the state in a ref and apply every key to the latest one, so keys that
 * arrive together (fast typing, a slow ssh link, a paste) each see the edit of the one before —
 * ink-text-input edited from its last rendered props and lost them (three backspaces deleted one).
 */
import type { Key } from "ink";

export interface LineState {
  text: string;
  /** 0..text.length */
  cursor: number;
}

export const lineAt = (text: string): LineState => ({ text, cursor: text.length });

/** The state after `input`/`key`, or null when the key is not an editing key (Enter, Esc, Tab…). */
export function editLine(s: LineState, input: string, key: Key): LineState | null {
  const { text, cursor } = s;
  if (key.return || key.escape || key.tab || key.upArrow || key.downArrow || key.pageUp || key.pageDown)
    return null;
  if (key.leftArrow) return { text, cursor: Math.max(0, cursor - 1) };
  if (key.rightArrow) return { text, cursor: Math.min(text.length, cursor + 1) };
  if (key.home || (key.ctrl && input === "a")) return { text, cursor: 0 };
  if (key.end || (key.ctrl && input === "e")) return { text, cursor: text.length };
  if (key.ctrl && input === "u") return { text: text.slice(cursor), cursor: 0 };
  if (key.ctrl && input === "k") return { text: text.slice(0, cursor), cursor };
  if (key.ctrl && input === "w") {
    const start = text.slice(0, cursor).replace(/\S+\s*$/, "").length;
    return { text: text.slice(0, start) + text.slice(cursor), cursor: start };
  }
  // Terminals send DEL (0x7f) for Backspace, which Ink names "delete": both erase to the left.
  if (key.backspace || key.delete) {
    if (cursor === 0) return s;
    return { text: text.slice(0, cursor - 1) + text.slice(cursor), cursor: cursor - 1 };
  }
  if (key.ctrl || key.meta || input === "") return null;
  // Printable text (one key, or a pasted run): control characters are dropped.
  const clean = input.replace(/[\x00-\x1f\x7f]/g, "");
  if (clean === "") return s;
  return { text: text.slice(0, cursor) + clean + text.slice(cursor), cursor: cursor + clean.length };
}
