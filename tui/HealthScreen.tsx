/** The Health screen: every checker's state, last result with its reason, latency, since when. */
import { Box, Text } from "ink";
import type { HealthEntry } from "./extras.ts";
import { ago, clock } from "./time-text.ts";
import { useScroll } from "./use-scroll.ts";
import { fit } from "./window.ts";

export interface HealthScreenProps {
  active: boolean;
  width: number;
  height: number;
  health: HealthEntry[];
  now: number;
}

const stateColor = (s: string) => (s === "up" ? "green" : s === "down" ? "red" : "yellow");

export function HealthScreen(p: HealthScreenProps) {
  const bodyH = Math.max(1, p.height - 1);
  const { top } = useScroll(p.health.length, bodyH, p.active);
  if (!p.active) return null;
  const head = `${"STATE".padEnd(7)} ${"SERVICE".padEnd(22)} ${"REAL SERVER".padEnd(22)} ${"CHECK".padEnd(10)} ${"LATENCY".padStart(8)} ${"SINCE".padEnd(16)} LAST RESULT`;
  return (
    <Box flexDirection="column" height={p.height}>
      <Text bold>{fit(head, p.width)}</Text>
      {p.health.length === 0 ? <Text dimColor>no health checkers</Text> : null}
      {p.health.slice(top, top + bodyH).map((h, i) => {
        const since = h.since === null ? "" : `${clock(h.since)} (${ago(p.now - h.since)})`;
        const lat = h.latencyMs === null ? "" : `${h.latencyMs.toFixed(1)}ms`;
        const rest = `${h.service.padEnd(22)} ${h.server.padEnd(22)} ${h.checker.padEnd(10)} ${lat.padStart(8)} ${since.padEnd(16)} ${h.reason}`;
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in a scrolled window
          <Text key={top + i}>
            <Text color={stateColor(h.state)}>{h.state.padEnd(7)}</Text> {fit(rest, p.width - 8)}
          </Text>
        );
      })}
    </Box>
  );
}
