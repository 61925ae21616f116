/**
 * Byte-range edits on a file's text: replace, insert, delete whole lines. Write-back builds a
 * list of them and applies them at once, so everything it does not touch stays byte for byte.
 */

export interface Edit {
  file: string;
  start: number;
  end: number;
  text: string;
}

export function lineStart(text: string, off: number): number {
  return text.lastIndexOf("\n", off - 1) + 1;
}

export function lineEnd(text: string, off: number): number {
  const i = text.indexOf("\n", off);
  return i < 0 ? text.length : i;
}

/** Only blanks between the start of the line and `off`. */
export function startsLine(text: string, off: number): boolean {
  return /^[ \t]*$/.test(text.slice(lineStart(text, off), off));
}

/** Only blanks or a comment between `off` and the end of the line. */
export function endsLine(text: string, off: number): boolean {
  return /^[ \t\r]*([#!].*)?$/.test(text.slice(off, lineEnd(text, off)));
}

/** The blanks that start the line holding `off`. */
export function indentAt(text: string, off: number): string {
  const s = lineStart(text, off);
  return /^[ \t]*/.exec(text.slice(s))?.[0] ?? "";
}

/** One indentation step of the file: a tab, or its smallest space indent; 4 spaces if none. */
export function indentUnit(text: string): string {
  let min = 0;
  for (const m of text.matchAll(/^([ \t]+)\S/gm)) {
    if (m[1][0] === "\t") return "\t";
    if (min === 0 || m[1].length < min) min = m[1].length;
  }
  return min ? " ".repeat(min) : "    ";
}

/** Delete [start, end): its whole lines when nothing else shares them (a trailing comment goes too). */
export function deleteSpan(file: string, text: string, start: number, end: number): Edit {
  if (startsLine(text, start) && endsLine(text, end)) {
    const e = lineEnd(text, end);
    return { file, start: lineStart(text, start), end: Math.min(e + 1, text.length), text: "" };
  }
  return { file, start, end, text: "" };
}

/** Apply edits to one text; identical edits count once, inserts at one place keep their order. */
export function applyEdits(text: string, edits: readonly Edit[]): string {
  const seen = new Set<string>();
  const unique = edits.filter((e) => {
    const k = `${e.start}:${e.end}:${e.text}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const order = unique.map((e, i) => ({ e, i })).sort((a, b) => b.e.start - a.e.start || b.i - a.i);
  let out = text;
  let limit = Number.POSITIVE_INFINITY;
  for (const { e } of order) {
    if (e.end > limit) throw new Error(`overlapping write-back edits at offset ${e.start}`);
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
    limit = e.start;
  }
  return out;
}

/** What to add to `text` to append `block`: on a new line, after a blank line when `blankLine`. */
export function appendText(text: string, block: string, blankLine: boolean): string {
  if (text === "") return block;
  const nl = text.endsWith("\n") ? "" : "\n";
  const blank = blankLine && !text.endsWith("\n\n") ? "\n" : "";
  return nl + blank + block;
}
