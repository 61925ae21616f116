/** The top line: the screens (hidden ones left out), where the data comes from, and its age. */
import { Box, Text } from "ink";
import type { ScreenId, ScreenInfo } from "./keys.ts";
import { clock } from "./time-text.ts";
import { cut } from "./window.ts";

export interface HeaderProps {
  screens: readonly ScreenInfo[];
  current: ScreenId;
  source: string;
  updatedAt: number | null;
  error: string | null;
  width: number;
}

export function Header(p: HeaderProps) {
  const tabs = p.screens.map((s) => ({ s, text: ` ${s.key} ${s.title} ` }));
  const used = 4 + tabs.reduce((n, t) => n + t.text.length, 0);
  const room = p.width - used - 1;
  const time = p.updatedAt ? ` · ${clock(p.updatedAt)}` : "";
  const right = p.error ? cut(`⚠ ${p.error}`, room) : `${cut(p.source, room - time.length)}${time}`;
  return (
    <Box>
      <Text bold color="cyan">
        uvs{" "}
      </Text>
      {tabs.map(({ s, text }) => (
        <Text key={s.id} inverse={s.id === p.current} bold={s.id === p.current}>
          {text}
        </Text>
      ))}
      {room > 3 ? (
        <Text color={p.error ? "red" : undefined} dimColor={!p.error}>
          {" "}
          {right.padStart(room)}
        </Text>
      ) : null}
    </Box>
  );
}
