/** The HA screen: VRRP instances, their state, the master and since when. */
import { Box, Text } from "ink";
import type { VrrpEntry } from "./extras.ts";
import { ago, clock } from "./time-text.ts";
import { useScroll } from "./use-scroll.ts";
import { fit } from "./window.ts";

export interface HaScreenProps {
  active: boolean;
  width: number;
  height: number;
  instances: VrrpEntry[];
  now: number;
}

const stateColor = (s: string) =>
  s === "master" ? "green" : s === "backup" ? "cyan" : s === "fault" ? "red" : "yellow";

export function HaScreen(p: HaScreenProps) {
  const bodyH = Math.max(1, p.height - 1);
  const { top } = useScroll(p.instances.length, bodyH, p.active);
  if (!p.active) return null;
  const head = `${"STATE".padEnd(7)} ${"INSTANCE".padEnd(16)} ${"VRID".padStart(4)} ${"PRIO".padStart(4)} ${"IFACE".padEnd(8)} ${"MASTER".padEnd(15)} ${"SINCE".padEnd(16)} VIPS`;
  return (
    <Box flexDirection="column" height={p.height}>
      <Text bold>{fit(head, p.width)}</Text>
      {p.instances.length === 0 ? <Text dimColor>no VRRP instances</Text> : null}
      {p.instances.slice(top, top + bodyH).map((v, i) => {
        const since = v.since === null ? "" : `${clock(v.since)} (${ago(p.now - v.since)})`;
        const rest = `${v.name.padEnd(16)} ${String(v.vrid ?? "").padStart(4)} ${String(v.priority ?? "").padStart(4)} ${v.iface.padEnd(8)} ${(v.master || "-").padEnd(15)} ${since.padEnd(16)} ${v.vips.join(" ")}`;
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in a scrolled window
          <Text key={top + i}>
            <Text color={stateColor(v.state.toLowerCase())}>{v.state.toUpperCase().padEnd(7)}</Text>{" "}
            {fit(rest, p.width - 8)}
          </Text>
        );
      })}
    </Box>
  );
}
