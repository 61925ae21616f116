/** One `uvs bench` run driven from the Bench screen; progress reaches the screen at most 4 times a second. */
import { useCallback, useEffect, useRef, useState } from "react";
import type { BenchOptions, BenchProgress, BenchRunner } from "./types.ts";

export type BenchPhase = "form" | "running" | "done" | "failed" | "cancelled";

export interface BenchState {
  phase: BenchPhase;
  opts: BenchOptions | null;
  progress: BenchProgress | null;
  /** the ab-style report once the run ended */
  report: string;
  error: string;
}

const IDLE: BenchState = { phase: "form", opts: null, progress: null, report: "", error: "" };

export function useBench(runner: BenchRunner | null, flushMs = 250) {
  const [state, setState] = useState<BenchState>(IDLE);
  const run = useRef<{ cancel(): void; latest: BenchProgress | null; timer: Timer | null } | null>(null);

  const stopTimer = useCallback(() => {
    const r = run.current;
    if (r?.timer) clearInterval(r.timer);
    if (r) r.timer = null;
  }, []);

  const start = useCallback(
    (opts: BenchOptions) => {
      if (!runner || run.current) return;
      const handle = runner.startBench(opts, (p) => {
        if (run.current) run.current.latest = p;
      });
      const r = { cancel: handle.cancel, latest: null as BenchProgress | null, timer: null as Timer | null };
      run.current = r;
      r.timer = setInterval(() => {
        const p = r.latest;
        if (p) setState((s) => (s.phase === "running" ? { ...s, progress: p } : s));
      }, flushMs);
      setState({ ...IDLE, phase: "running", opts });
      handle.result.then(
        (res) => {
          stopTimer();
          run.current = null;
          let report: string;
          try {
            report = runner.formatReport(res, opts);
          } catch (e) {
            setState((s) => ({ ...s, phase: "failed", error: (e as Error).message }));
            return;
          }
          setState((s) => ({
            ...s,
            phase: s.phase === "cancelled" ? "cancelled" : "done",
            progress: r.latest ?? s.progress,
            report,
          }));
        },
        (e) => {
          stopTimer();
          run.current = null;
          setState((s) => ({
            ...s,
            phase: s.phase === "cancelled" ? "cancelled" : "failed",
            error: String((e as Error)?.message ?? e),
          }));
        },
      );
    },
    [runner, flushMs, stopTimer],
  );

  const cancel = useCallback(() => {
    if (!run.current) return;
    run.current.cancel();
    setState((s) => ({ ...s, phase: "cancelled" }));
  }, []);

  const reset = useCallback(() => {
    if (!run.current) setState(IDLE);
  }, []);

  useEffect(
    () => () => {
      run.current?.cancel();
      stopTimer();
    },
    [stopTimer],
  );

  return { state, start, cancel, reset };
}
