/**
 * keepalived.conf tokens (lib/parser.c rules): blanks split words, `"…"` groups (quotes removed),
 * `#` and `!` start a comment outside quotes, `\#` and `\!` are literal, a trailing `\` joins the
 * next line, `{` and `}` are tokens wherever they stand. Newlines are tokens because statements
 * are line based.
 */
import type { Token } from "./cst.ts";
import { type Diagnostics, posOf } from "./model.ts";

const BLANK = new Set([" ", "\t", "\r", "\f", "\v"]);

class Cursor {
  i = 0;
  line = 1;
  col = 1;
  constructor(readonly text: string) {}
  get ch(): string {
    return this.text[this.i];
  }
  get done(): boolean {
    return this.i >= this.text.length;
  }
  advance(): void {
    if (this.text[this.i] === "\n") {
      this.line++;
      this.col = 1;
    } else this.col++;
    this.i++;
  }
}

function skipComment(c: Cursor): void {
  while (!c.done && c.ch !== "\n") c.advance();
}

/** A quoted segment; the opening quote is at the cursor. Ends at the closing quote or the line end. */
function readQuoted(c: Cursor, file: string, diags: Diagnostics): string {
  const line = c.line;
  const col = c.col;
  c.advance();
  let out = "";
  while (!c.done && c.ch !== '"' && c.ch !== "\n") {
    if (c.ch === "\\" && c.text[c.i + 1] === '"') {
      c.advance();
    }
    out += c.ch;
    c.advance();
  }
  if (c.ch === '"') c.advance();
  else diags.error(posOf(file, line, col), "unterminated string: missing closing '\"'");
  return out;
}

function isWordEnd(c: Cursor): boolean {
  const ch = c.ch;
  return c.done || BLANK.has(ch) || ch === "\n" || ch === "{" || ch === "}" || ch === "#" || ch === "!";
}

/** A word: plain characters and quoted segments up to a blank, a brace or a comment. */
function readWord(c: Cursor, file: string, diags: Diagnostics): { text: string; quoted: boolean } {
  let text = "";
  let quoted = false;
  while (!isWordEnd(c)) {
    if (c.ch === '"') {
      text += readQuoted(c, file, diags);
      quoted = true;
    } else if (c.ch === "\\" && (c.text[c.i + 1] === "#" || c.text[c.i + 1] === "!")) {
      c.advance();
      text += c.ch;
      c.advance();
    } else if (c.ch === "\\" && isContinuation(c)) {
      break;
    } else {
      text += c.ch;
      c.advance();
    }
  }
  return { text, quoted };
}

/** `\` followed by blanks up to the end of the line joins the next line. */
function isContinuation(c: Cursor): boolean {
  let j = c.i + 1;
  while (j < c.text.length && BLANK.has(c.text[j])) j++;
  return j >= c.text.length || c.text[j] === "\n";
}

function skipContinuation(c: Cursor): void {
  c.advance();
  while (!c.done && c.ch !== "\n") c.advance();
  if (!c.done) c.advance();
}

/** Tokens of a whole file; lexical errors go to `diags`, the lexer never throws. */
export function lex(text: string, file: string, diags: Diagnostics): Token[] {
  const c = new Cursor(text);
  const out: Token[] = [];
  while (!c.done) {
    const ch = c.ch;
    if (BLANK.has(ch)) {
      c.advance();
      continue;
    }
    if (ch === "#" || ch === "!") {
      skipComment(c);
      continue;
    }
    if (ch === "\\" && isContinuation(c)) {
      skipContinuation(c);
      continue;
    }
    const start = c.i;
    const line = c.line;
    const col = c.col;
    if (ch === "\n" || ch === "{" || ch === "}") {
      c.advance();
      const kind = ch === "\n" ? "nl" : ch === "{" ? "open" : "close";
      out.push({ kind, text: ch, start, end: c.i, line, col, quoted: false });
      continue;
    }
    const w = readWord(c, file, diags);
    out.push({ kind: "word", text: w.text, start, end: c.i, line, col, quoted: w.quoted });
  }
  return out;
}
