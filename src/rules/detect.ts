/**
 * Which dialect a rules text is written in, by its content: the first line that is not blank or
 * a comment starts with an option (`-A`, `--add-service`, optionally after the word `ipvsadm`)
 * in ipvsadm's save format; anything else is keepalived syntax (so is an empty file).
 */
export type Dialect = "keepalived" | "ipvsadm";

export function detectDialect(text: string): Dialect {
  for (const raw of text.split("\n")) {
    const words = raw.split(/[ \t\r]+/).filter((w) => w !== "" && w !== "ipvsadm");
    if (words.length === 0) continue;
    const first = words[0];
    if (first.startsWith("#") || first.startsWith("!")) continue;
    return first.startsWith("-") ? "ipvsadm" : "keepalived";
  }
  return "keepalived";
}
