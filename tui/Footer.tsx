/** The bottom line: the keys of what is on screen. */
import { Text } from "ink";
import { footerText, type KeyHelp } from "./keys.ts";

export function Footer(p: { keys: readonly KeyHelp[]; always?: readonly KeyHelp[]; width: number }) {
  return <Text dimColor>{footerText(p.keys, p.width, p.always)}</Text>;
}
