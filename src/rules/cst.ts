/**
 * The concrete syntax tree of a keepalived-syntax file: statements with their tokens, every token
 * with its offsets into the file's text, so diagnostics can point at it and write-back can edit
 * exactly its bytes and keep everything else (comments, spacing) as it was.
 */

export interface Token {
  kind: "word" | "open" | "close" | "nl";
  /** The value: quotes removed, `\#`/`\!` unescaped. */
  text: string;
  /** Offsets into the file's text: [start, end). */
  start: number;
  end: number;
  line: number;
  col: number;
  quoted: boolean;
}

export interface Block {
  open: Token;
  body: Stmt[];
  /** null when the file ended first (an error was reported). */
  close: Token | null;
}

/** `keyword args… [{ body }]`; a statement ends at a newline, `{` opens its block, `}` ends it. */
export interface Stmt {
  file: string;
  keyword: Token;
  args: Token[];
  block: Block | null;
  /** Offsets of the statement's first and last byte + 1 (the closing brace for blocks). */
  start: number;
  end: number;
}

export interface Cst {
  file: string;
  text: string;
  stmts: Stmt[];
}

/** Statements of a block body with this keyword (one of several aliases). */
export function findStmts(body: readonly Stmt[], ...keywords: string[]): Stmt[] {
  return body.filter((s) => keywords.includes(s.keyword.text));
}
