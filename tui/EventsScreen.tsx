/** The Events screen: the daemon's log of health flips, reloads, CLI changes and errors, newest last. */
import { Box, Text } from "ink";
import { useMemo, useState } from "react";
import { clock } from "./time-text.ts";
import type { TuiEvent } from "./types.ts";
import { useLatestInput } from "./use-latest-input.ts";
import { useScroll } from "./use-scroll.ts";
import { fit } from "./window.ts";

export const LEVELS: readonly TuiEvent["level"][] = ["debug", "info", "notice", "warning", "error"];

export interface EventsScreenProps {
  active: boolean;
  width: number;
  height: number;
  /** false with --state: there is no event log to read */
  available: boolean;
  events: readonly TuiEvent[];
  error: string | null;
}

const LEVEL_COLOR: Record<string, string | undefined> = {
  debug: "gray",
  info: undefined,
  notice: "cyan",
  warning: "yellow",
  error: "red",
};

/** `msg key=value …` */
export function eventText(e: TuiEvent): string {
  const fields = Object.entries(e.fields ?? {})
    .map(([k, v]) => `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(" ");
  return fields ? `${e.msg} ${fields}` : e.msg;
}

export function EventsScreen(p: EventsScreenProps) {
  const [minLevel, setMinLevel] = useState(0);
  const shown = useMemo(
    () => p.events.filter((e) => LEVELS.indexOf(e.level) >= minLevel),
    [p.events, minLevel],
  );
  const bodyH = Math.max(1, p.height - 1);
  const { top, following } = useScroll(shown.length, bodyH, p.active, true);
  useLatestInput(
    (input) => {
      if (input === "l") setMinLevel((minLevel + 1) % LEVELS.length);
    },
    { isActive: p.active },
  );
  if (!p.active) return null;
  if (!p.available)
    return (
      <Box height={p.height}>
        <Text dimColor>No events: a state file has no event log (events come from a running daemon).</Text>
      </Box>
    );
  const head = `${shown.length} events, level ≥ ${LEVELS[minLevel]}${following ? ", following" : ""}${p.error ? `  (${p.error})` : ""}`;
  return (
    <Box flexDirection="column" height={p.height}>
      <Text dimColor>{fit(head, p.width)}</Text>
      {shown.slice(top, top + bodyH).map((e) => (
        <Text key={e.seq}>
          {clock(e.time)} <Text color={LEVEL_COLOR[e.level]}>{e.level.padEnd(7)}</Text>{" "}
          {fit(eventText(e), p.width - 17)}
        </Text>
      ))}
    </Box>
  );
}
