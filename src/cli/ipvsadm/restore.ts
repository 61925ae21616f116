/**
 * -R input → argument vectors, as ipvsadm's config_stream does: one line per command, tokens
 * split on blanks, tabs and CRs, the word `ipvsadm` dropped, empty lines skipped. `#` is not a
 * comment here (only the ipvsadm-restore wrapper strips such lines).
 */
export function restoreLines(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split("\n")) {
    const tokens = line.split(/[ \t\r]+/).filter((t) => t !== "" && t !== "ipvsadm");
    if (tokens.length > 0) out.push(tokens);
  }
  return out;
}
