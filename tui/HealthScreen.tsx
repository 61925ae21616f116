/**
 * The Health screen: every checker's state, last result with its reason, latency, since when;
 * grouped by virtual service as ipvsadm groups real servers.
 */
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

type Line = { group: string } | { h: HealthEntry };

/** Checkers under a line per service, in the order the daemon lists them. */
export function healthLines(health: readonly HealthEntry[]): Line[] {
  const groups = new Map<string, HealthEntry[]>();
  for (const h of health) groups.set(h.service, [...(groups.get(h.service) ?? []), h]);
  const out: Line[] = [];
  for (const [group, hs] of groups) {
    out.push({ group: group || "(no service)" });
    for (const h of hs) out.push({ h });
  }
  return out;
}

export function HealthScreen(p: HealthScreenProps) {
  const bodyH = Math.max(1, p.height - 1);
  const lines = healthLines(p.health);
  const { top } = useScroll(lines.length, bodyH, p.active);
  if (!p.active) return null;
  const wide = p.width >= 100;
  const serverW = Math.min(21, Math.max(11, ...p.health.map((h) => h.server.length)));
  const head = `  ${"STATE".padEnd(5)} ${"REAL SERVER".padEnd(serverW)} ${"CHECK".padEnd(10)} ${"LATENCY".padStart(8)} ${"SINCE".padEnd(8)}${wide ? ` ${"FOR".padEnd(6)}` : ""} LAST RESULT`;
  return (
    <Box flexDirection="column" height={p.height}>
      <Text bold>{fit(head, p.width)}</Text>
      {p.health.length === 0 ? <Text dimColor>no health checkers</Text> : null}
      {lines.slice(top, top + bodyH).map((l, i) => {
        if ("group" in l)
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in a scrolled window
            <Text key={top + i} bold>
              {fit(l.group, p.width)}
            </Text>
          );
        const h = l.h;
        const since = h.since === null ? "" : clock(h.since);
        const dur = h.since === null ? "" : ago(p.now - h.since);
        const lat = h.latencyMs === null ? "" : `${h.latencyMs.toFixed(1)}ms`;
        const rest = `${h.server.padEnd(serverW)} ${h.checker.padEnd(10)} ${lat.padStart(8)} ${since.padEnd(8)}${wide ? ` ${dur.padEnd(6)}` : ""} ${h.reason}`;
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in a scrolled window
          <Text key={top + i}>
            {"  "}
            <Text color={stateColor(h.state)}>{h.state.padEnd(5)}</Text> {fit(rest, p.width - 8)}
          </Text>
        );
      })}
    </Box>
  );
}
