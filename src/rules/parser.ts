/**
 * keepalived-syntax tokens → statements. A statement is a keyword and its arguments up to the end
 * of the line, a `{` (which opens its block) or a `}`. Braces that do not fit are reported and the
 * parse goes on, so one run reports every structural problem.
 */
import type { Block, Cst, Stmt, Token } from "./cst.ts";
import { lex } from "./lexer.ts";
import { type Diagnostics, posOf } from "./model.ts";

class TokenStream {
  i = 0;
  constructor(readonly toks: Token[]) {}
  peek(): Token | undefined {
    return this.toks[this.i];
  }
  next(): Token | undefined {
    return this.toks[this.i++];
  }
  skipNewlines(): void {
    while (this.peek()?.kind === "nl") this.i++;
  }
}

/** Deeper nesting than any keepalived file needs; it keeps random input from exhausting the stack. */
const MAX_DEPTH = 32;

class Parser {
  private depth = 0;
  private aborted = false;
  constructor(
    readonly ts: TokenStream,
    readonly file: string,
    readonly diags: Diagnostics,
  ) {}

  private at(t: Token) {
    return posOf(this.file, t.line, t.col);
  }

  /** Statements until EOF (top level) or the `}` that closes `open`. */
  body(open: Token | null): { stmts: Stmt[]; close: Token | null } {
    const stmts: Stmt[] = [];
    if (open && ++this.depth > MAX_DEPTH) return this.tooDeep(open);
    try {
      return this.items(open, stmts);
    } finally {
      if (open) this.depth--;
    }
  }

  /** Report once and skip to the end: nothing below this depth is read. */
  private tooDeep(open: Token): { stmts: Stmt[]; close: Token | null } {
    this.diags.error(this.at(open), `blocks nested deeper than ${MAX_DEPTH} levels`);
    this.ts.i = this.ts.toks.length;
    this.aborted = true;
    return { stmts: [], close: null };
  }

  private items(open: Token | null, stmts: Stmt[]): { stmts: Stmt[]; close: Token | null } {
    for (;;) {
      this.ts.skipNewlines();
      const t = this.ts.next();
      if (!t) {
        if (open && !this.aborted) this.diags.error(this.at(open), "missing '}' for this '{'");
        return { stmts, close: null };
      }
      if (t.kind === "close") {
        if (open) return { stmts, close: t };
        this.diags.error(this.at(t), "unexpected '}' with no open block");
        continue;
      }
      if (t.kind === "open") {
        this.diags.error(this.at(t), "unexpected '{' without a keyword before it");
        this.body(t); // parsed for its errors, then dropped
        continue;
      }
      stmts.push(this.stmt(t));
    }
  }

  private stmt(keyword: Token): Stmt {
    const args: Token[] = [];
    let block: Block | null = null;
    for (;;) {
      const t = this.ts.peek();
      if (!t || t.kind === "nl" || t.kind === "close") break;
      this.ts.next();
      if (t.kind === "open") {
        const { stmts, close } = this.body(t);
        block = { open: t, body: stmts, close };
        break;
      }
      args.push(t);
    }
    const last = block ? (block.close ?? lastToken(block.open, block.body)) : (args.at(-1) ?? keyword);
    return { file: this.file, keyword, args, block, start: keyword.start, end: last.end };
  }
}

/** The last token of an unterminated block (for its span). */
function lastToken(open: Token, body: Stmt[]): { end: number } {
  const s = body.at(-1);
  return s ? { end: s.end } : open;
}

/** Parse keepalived-syntax text; never throws, problems go to `diags`. */
export function parseKeepalived(text: string, file: string, diags: Diagnostics): Cst {
  const toks = lex(text, file, diags);
  const p = new Parser(new TokenStream(toks), file, diags);
  return { file, text, stmts: p.body(null).stmts };
}
