/** Split a byte stream into lines (UTF-8), keeping a partial line until its newline arrives. */
export class LineBuffer {
  private buf = "";
  private readonly decoder = new TextDecoder();

  constructor(private readonly maxLine: number) {}

  /** Feed bytes; returns the complete lines, or null when a line grew past the limit. */
  push(chunk: Uint8Array): string[] | null {
    this.buf += this.decoder.decode(chunk, { stream: true });
    const lines: string[] = [];
    let nl = this.buf.indexOf("\n");
    while (nl >= 0) {
      lines.push(this.buf.slice(0, nl));
      this.buf = this.buf.slice(nl + 1);
      nl = this.buf.indexOf("\n");
    }
    return this.buf.length > this.maxLine ? null : lines;
  }
}
