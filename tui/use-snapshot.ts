/**
 * Polls the data source for snapshots, at most 4 times a second (slower when a fetch takes long,
 * e.g. 100,000 connections), and keeps each real server's connection-rate history for sparklines.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { Snapshot } from "../src/model/snapshot.ts";
import { Opaque } from "./opaque.ts";
import { type ServiceRow, serviceRows } from "./service-rows.ts";
import type { DataSource } from "./types.ts";

/** Samples kept per real server (one a second). */
export const HISTORY_LEN = 60;
const SAMPLE_MS = 1000;

export interface SnapshotState {
  snapshot: Snapshot | null;
  /** the Services table's rows (opaque: see opaque.ts) */
  rows: Opaque<readonly ServiceRow[]>;
  /** CPS samples per real server, oldest first (keys: destKey) */
  history: ReadonlyMap<string, number[]>;
  error: string | null;
  /** epoch ms of the last good snapshot */
  updatedAt: number | null;
}

/** Append one CPS sample per real server (the arrays are reused); drops servers that are gone. */
export function addSample(
  prev: ReadonlyMap<string, number[]>,
  rows: readonly ServiceRow[],
): Map<string, number[]> {
  const next = new Map<string, number[]>();
  for (const r of rows) {
    if (r.line === 0) continue;
    const k = r.key;
    const h = prev.get(k) ?? [];
    h.push(r.cps);
    if (h.length > HISTORY_LEN) h.shift();
    next.set(k, h);
  }
  return next;
}

export function useSnapshot(
  source: DataSource,
  intervalMs = 250,
  now: () => number = Date.now,
  /** Whether the current screen shows connection entries (otherwise they are not fetched). */
  wantConnections: () => boolean = () => true,
): SnapshotState & { refresh(): void } {
  const [state, setState] = useState<SnapshotState>({
    snapshot: null,
    rows: new Opaque([]),
    history: new Map(),
    error: null,
    updatedAt: null,
  });
  // The latest predicate, read at fetch time (a new closure each render must not restart polling).
  const want = useRef(wantConnections);
  want.current = wantConnections;
  const ctl = useRef({
    timer: null as Timer | null,
    busy: false,
    again: false,
    stopped: false,
    lastSample: 0,
    /** the last rows: the next snapshot's rows reuse their order and names */
    rows: undefined as ServiceRow[] | undefined,
  });

  const tick = useCallback(async () => {
    const c = ctl.current;
    if (c.stopped) return;
    if (c.busy) {
      c.again = true;
      return;
    }
    if (c.timer) clearTimeout(c.timer);
    c.timer = null;
    c.busy = true;
    const started = performance.now();
    try {
      const snapshot = await source.snapshot({ connections: want.current() });
      if (c.stopped) return;
      const rows = serviceRows(snapshot, c.rows);
      c.rows = rows;
      const t = now();
      const sample = t - c.lastSample >= SAMPLE_MS;
      if (sample) c.lastSample = t;
      setState((s) => ({
        snapshot,
        rows: new Opaque(rows),
        history: sample ? addSample(s.history, rows) : s.history,
        error: null,
        updatedAt: t,
      }));
    } catch (e) {
      if (!c.stopped) setState((s) => ({ ...s, error: (e as Error).message }));
    } finally {
      c.busy = false;
    }
    if (c.stopped) return;
    // Never more than 4 Hz; with a huge table (fetch, parse, render) the TUI stays idle at least
    // two thirds of the time, so keys are answered at once.
    const delay = c.again ? 0 : Math.max(intervalMs, 250, 3 * (performance.now() - started));
    c.again = false;
    c.timer = setTimeout(() => void tick(), delay);
  }, [source, intervalMs, now]);

  useEffect(() => {
    const c = ctl.current;
    c.stopped = false;
    void tick();
    return () => {
      c.stopped = true;
      if (c.timer) clearTimeout(c.timer);
    };
  }, [tick]);

  return { ...state, refresh: () => void tick() };
}
