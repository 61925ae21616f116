/** `?`: every key of the current screen and the global ones, and what the marks mean. */
import { Box, Text } from "ink";
import { GLOBAL_KEYS, SCREEN_KEYS, SCREENS, type ScreenId } from "./keys.ts";
import { fit } from "./window.ts";

export function HelpScreen({ screen, width, height }: { screen: ScreenId; width: number; height: number }) {
  const title = SCREENS.find((s) => s.id === screen)?.title ?? screen;
  const lines: { text: string; bold?: boolean }[] = [
    { text: `${title} keys`, bold: true },
    ...SCREEN_KEYS[screen].map((k) => ({ text: `  ${k.key.padEnd(8)} ${k.what}` })),
    { text: "Everywhere", bold: true },
    ...GLOBAL_KEYS.map((k) => ({ text: `  ${k.key.padEnd(8)} ${k.what}` })),
  ];
  if (screen === "services")
    lines.push(
      { text: "Marks", bold: true },
      { text: "  ●  in rotation   ◐  quiesced (weight 0)   ✖  health check failing" },
      { text: "  Changes run as ipvsadm commands through the daemon, which writes its rules file." },
    );
  lines.push({ text: "Press ? or Esc to close." });
  return (
    <Box flexDirection="column" height={height}>
      {lines.slice(0, height).map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in a scrolled window
        <Text key={i} bold={l.bold}>
          {fit(l.text, width)}
        </Text>
      ))}
    </Box>
  );
}
