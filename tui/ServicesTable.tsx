/**
 * The ipvsadm table (-Ln, --stats or --rate) with a selection, a state mark per real server
 * (● in rotation, ◐ quiesced: weight 0, ✖ health check down) and each real server's CPS sparkline.
 */
import { getSymbol } from "@pppp606/ink-chart";
import { Box, Text } from "ink";
import { memo } from "react";
import { type HealthEntry, healthStateOf } from "./extras.ts";
import type { Opaque } from "./opaque.ts";
import { destKey, rowTexts, type ServiceRow, type ServiceView, viewTitle } from "./service-rows.ts";
import { fit } from "./window.ts";

export interface ServicesTableProps {
  rows: Opaque<readonly ServiceRow[]>;
  view: ServiceView;
  selected: number;
  top: number;
  /** rows of the table body (titles not included) */
  height: number;
  width: number;
  history: ReadonlyMap<string, number[]>;
  health: HealthEntry[] | null;
  versionLine: string;
}

/** Widest ipvsadm line of each view's real-server rows. */
const LINE_W: Record<ServiceView, number> = { default: 70, stats: 78, rate: 78 };
const SPARK_MAX = 24;
const SPARK_MIN = 5;

export type Mark = "up" | "quiesced" | "down" | "";

export function markOf(r: ServiceRow, health: HealthEntry[] | null): Mark {
  if (!r.dest) return "";
  const h = healthStateOf(health, r.svcRule.split(" ")[1] ?? "", r.destText);
  if (h && h !== "up") return "down";
  return r.dest.weight === 0 ? "quiesced" : "up";
}

const MARK: Record<Mark, { ch: string; color?: string }> = {
  up: { ch: "●", color: "green" },
  quiesced: { ch: "◐", color: "yellow" },
  down: { ch: "✖", color: "red" },
  "": { ch: " " },
};

/**
 * The last `width` CPS samples as block characters (ink-chart's symbol scale), scaled to the
 * largest; text rather than a component so a row stays one Ink text node.
 */
export function sparkText(data: readonly number[], width: number): string {
  const last = data.slice(-width);
  const max = Math.max(1, ...last);
  const s = last.map((v) => getSymbol(Math.max(0, v) / max)).join("");
  return s.padStart(width, "·");
}

export const ServicesTable = memo(function ServicesTable(p: ServicesTableProps) {
  const sparkW = Math.min(SPARK_MAX, p.width - 2 - LINE_W[p.view] - 1);
  const showSpark = sparkW >= SPARK_MIN;
  const textW = showSpark ? LINE_W[p.view] : p.width - 2;
  const [t1, t2] = viewTitle(p.view);
  const rows = p.rows.value;
  const texts = rowTexts(rows, p.top, p.top + p.height, p.view);
  return (
    <Box flexDirection="column">
      <Text dimColor>{fit(p.versionLine, p.width)}</Text>
      <Text bold>{fit(`  ${t1}`, p.width)}</Text>
      <Text bold>
        {fit(
          `  ${fit(t2, textW)}${showSpark ? ` ${fit(sparkW >= 9 ? "CPS trend" : "CPS", sparkW)}` : ""}`,
          p.width,
        )}
      </Text>
      {rows.length === 0 ? <Text dimColor> (no virtual services — a: add one)</Text> : null}
      {texts.map((text, i) => {
        const idx = p.top + i;
        const r = rows[idx];
        const sel = idx === p.selected;
        const mark = MARK[markOf(r, p.health)];
        // One text node per row: nested Text is laid out once, a Box of Texts per row is not.
        return (
          <Text key={idx}>
            <Text color={sel ? "cyan" : undefined} bold={sel}>
              {sel ? ">" : " "}
            </Text>
            <Text color={mark.color}>{mark.ch}</Text>
            <Text inverse={sel} bold={r.line === 0}>
              {fit(text, textW)}
            </Text>
            {showSpark && r.line > 0 ? (
              <Text color="cyan"> {sparkText(p.history.get(destKey(r)) ?? [], sparkW)}</Text>
            ) : null}
          </Text>
        );
      })}
    </Box>
  );
});
