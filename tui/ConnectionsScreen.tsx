/**
 * The Connections screen: the live -Lnc entries, filtered, scrolled. Only the rows on screen are
 * formatted, so 100,000 entries scroll as fast as 10.
 */
import { Box, Text } from "ink";
import { memo, useEffect, useMemo, useReducer, useRef, useState } from "react";
import type { SnapConn } from "../src/model/snapshot.ts";
import { CONN_TITLE, connText, filterConnections, parseConnFilter } from "./conn-filter.ts";
import { LineView } from "./LineView.tsx";
import { editLine, type LineState, lineAt } from "./line-edit.ts";
import { Opaque } from "./opaque.ts";
import { useLatestInput } from "./use-latest-input.ts";
import { fit } from "./window.ts";

export interface ConnectionsScreenProps {
  active: boolean;
  width: number;
  height: number;
  connections: Opaque<readonly SnapConn[]>;
  /** set from outside (Services screen `c`); the user edits it with `/` */
  filter: string;
  onFilter(text: string): void;
  onCapture(capturing: boolean): void;
}

export interface ConnectionsTableProps {
  connections: Opaque<readonly SnapConn[]>;
  /** indices into connections; null: all of them */
  shown: Opaque<Uint32Array | null>;
  top: number;
  height: number;
  width: number;
}

export const ConnectionsTable = memo(function ConnectionsTable(p: ConnectionsTableProps) {
  const conns = p.connections.value;
  const shown = p.shown.value;
  const n = shown ? shown.length : conns.length;
  const lines: string[] = [];
  for (let i = p.top; i < Math.min(n, p.top + p.height); i++)
    lines.push(connText(conns[shown ? shown[i] : i]));
  return (
    <Box flexDirection="column">
      <Text bold>{fit(CONN_TITLE, p.width)}</Text>
      {lines.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in a scrolled window
        <Text key={p.top + i}>{fit(l, p.width)}</Text>
      ))}
    </Box>
  );
});

export function ConnectionsScreen(p: ConnectionsScreenProps) {
  // The scroll position belongs to a filter: a new filter starts at the top.
  const [pos, setPos] = useState({ filter: p.filter, top: 0 });
  const top = pos.filter === p.filter ? pos.top : 0;
  // The filter being typed lives here: each key of a burst edits the latest text, not the last
  // rendered one (line-edit.ts); a render only shows it.
  const editRef = useRef<LineState | null>(null);
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const editing = editRef.current;
  const setEditing = (l: LineState | null) => {
    editRef.current = l;
    redraw();
  };
  const parsed = useMemo(() => parseConnFilter(p.filter), [p.filter]);
  // Recomputed when a new snapshot arrives (≤ 4 Hz) or the filter changes, not on scrolling.
  const conns = p.connections.value;
  const shownBox = useMemo(
    () => new Opaque(p.active ? filterConnections(conns, parsed) : null),
    [conns, parsed, p.active],
  );
  const shown = shownBox.value;
  const n = shown ? shown.length : conns.length;
  const bodyH = Math.max(1, p.height - 2);
  const maxTop = Math.max(0, n - bodyH);
  const shownTop = Math.min(top, maxTop);

  useEffect(() => p.onCapture(editing !== null), [editing, p.onCapture]);

  const scroll = (to: number) => setPos({ filter: p.filter, top: Math.max(0, Math.min(maxTop, to)) });

  useLatestInput(
    (input, key) => {
      const line = editRef.current;
      if (line !== null) {
        if (key.escape) setEditing(null);
        else if (key.return) {
          p.onFilter(line.text.trim());
          setEditing(null);
        } else {
          const next = editLine(line, input, key);
          if (next) setEditing(next);
        }
        return;
      }
      if (key.upArrow || input === "k") scroll(shownTop - 1);
      else if (key.downArrow || input === "j") scroll(shownTop + 1);
      else if (key.pageUp) scroll(shownTop - bodyH);
      else if (key.pageDown || input === " ") scroll(shownTop + bodyH);
      else if (input === "g" || key.home) scroll(0);
      else if (input === "G" || key.end) scroll(maxTop);
      else if (input === "/") setEditing(lineAt(p.filter));
      else if (key.escape) p.onFilter("");
    },
    { isActive: p.active },
  );

  if (!p.active) return null;
  const count =
    n === 0
      ? "no entries"
      : `${shownTop + 1}-${Math.min(n, shownTop + bodyH)} of ${n}${shown ? ` (of ${conns.length})` : ""}`;
  const bad = parsed.errors.length ? `  not understood: ${parsed.errors.join(" ")}` : "";
  return (
    <Box flexDirection="column" height={p.height}>
      {editing !== null ? (
        <Box>
          <Text color="cyan">filter: </Text>
          <LineView line={editing} placeholder="svc=VIP:PORT rs=RIP:PORT state=EST client=ADDR" />
        </Box>
      ) : (
        <Text color={bad ? "red" : p.filter ? "cyan" : undefined}>
          {fit(`IPVS connection entries  ${count}${p.filter ? `  filter: ${p.filter}` : ""}${bad}`, p.width)}
        </Text>
      )}
      <ConnectionsTable
        connections={p.connections}
        shown={shownBox}
        top={shownTop}
        height={bodyH}
        width={p.width}
      />
    </Box>
  );
}
