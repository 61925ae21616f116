/** Polls the daemon's event log (control method `events`), keeping the last 1,000 events. */
import { useEffect, useState } from "react";
import type { DataSource, TuiEvent } from "./types.ts";

export const EVENTS_KEPT = 1000;

export interface EventsState {
  /** false with --state: there is no event log */
  available: boolean;
  events: TuiEvent[];
  error: string | null;
}

export function useEvents(source: DataSource, intervalMs = 500): EventsState {
  const [state, setState] = useState<EventsState>({
    available: source.events !== null,
    events: [],
    error: null,
  });
  useEffect(() => {
    const fetch = source.events;
    if (!fetch) return;
    let since = 0;
    let stopped = false;
    let timer: Timer | null = null;
    const poll = async () => {
      try {
        const got = await fetch(since);
        if (stopped) return;
        if (got.length) {
          since = got[got.length - 1].seq;
          setState((s) => {
            const all = s.events.concat(got);
            return {
              available: true,
              events: all.length > EVENTS_KEPT ? all.slice(-EVENTS_KEPT) : all,
              error: null,
            };
          });
        } else setState((s) => (s.error ? { ...s, error: null } : s));
      } catch (e) {
        if (!stopped) setState((s) => ({ ...s, error: (e as Error).message }));
      }
      if (!stopped) timer = setTimeout(() => void poll(), Math.max(250, intervalMs));
    };
    void poll();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [source, intervalMs]);
  return state;
}
