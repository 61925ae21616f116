/** A one-line text being edited: the cursor as an inverse cell; a dim placeholder when empty. */
import { Text } from "ink";
import type { LineState } from "./line-edit.ts";

export function LineView({ line, placeholder }: { line: LineState; placeholder?: string }) {
  const { text, cursor } = line;
  if (text === "" && placeholder)
    return (
      <Text>
        <Text inverse>{placeholder[0]}</Text>
        <Text dimColor>{placeholder.slice(1)}</Text>
      </Text>
    );
  return (
    <Text>
      {text.slice(0, cursor)}
      <Text inverse>{text[cursor] ?? " "}</Text>
      {text.slice(cursor + 1)}
    </Text>
  );
}
