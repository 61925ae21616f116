/** The Bench screen: a form, then a live progress bar, requests/s and latency histogram, then ab's report. */
import { BarChart } from "@pppp606/ink-chart";
import { Box, Text } from "ink";
import { useEffect, useState } from "react";
import { benchFields, benchFraction, histogramBars, readBenchForm } from "./bench-form.ts";
import { Form } from "./Form.tsx";
import type { BenchOptions, BenchProgress, BenchRunner } from "./types.ts";
import { useBench } from "./use-bench.ts";
import { useLatestInput } from "./use-latest-input.ts";
import { useScroll } from "./use-scroll.ts";
import { fit } from "./window.ts";

export interface BenchScreenProps {
  active: boolean;
  width: number;
  height: number;
  /** null when this build has no load generator */
  runner: BenchRunner | null;
  /** the form's first URL (the first TCP service) */
  defaultUrl: string;
  onCapture(capturing: boolean): void;
}

export function ProgressBar({ fraction, width }: { fraction: number; width: number }) {
  const w = Math.max(1, width);
  const full = Math.round(fraction * w);
  return (
    <Text>
      <Text color="green">{"█".repeat(full)}</Text>
      <Text dimColor>{"░".repeat(w - full)}</Text>
    </Text>
  );
}

export function BenchLive(p: {
  opts: BenchOptions;
  progress: BenchProgress | null;
  width: number;
  height: number;
}) {
  const pr = p.progress;
  const frac = benchFraction(p.opts, pr);
  const pct = `${Math.floor(frac * 100)}%`.padStart(5);
  const target = p.opts.timeLimitS
    ? `${((pr?.elapsedMs ?? 0) / 1000).toFixed(1)}/${p.opts.timeLimitS}s`
    : `${(pr?.done ?? 0) + (pr?.failed ?? 0)}/${p.opts.requests}`;
  const bars = pr ? histogramBars(pr.histogram, Math.max(1, p.height - 5)) : [];
  return (
    <Box flexDirection="column">
      <Text>
        {fit(
          `${p.opts.url}  -n ${p.opts.requests} -c ${p.opts.concurrency}${p.opts.keepAlive ? " -k" : ""}${p.opts.timeLimitS ? ` -t ${p.opts.timeLimitS}` : ""}`,
          p.width,
        )}
      </Text>
      <Box>
        <ProgressBar fraction={frac} width={Math.max(10, p.width - 30)} />
        <Text>
          {" "}
          {pct} {target}
        </Text>
      </Box>
      <Text>
        {fit(
          pr
            ? `${pr.rps.toFixed(1)} req/s  done ${pr.done}  failed ${pr.failed}  p50 ${pr.latencyMs.p50.toFixed(1)}ms  p90 ${pr.latencyMs.p90.toFixed(1)}ms  p99 ${pr.latencyMs.p99.toFixed(1)}ms  max ${pr.latencyMs.max.toFixed(1)}ms`
            : "starting…",
          p.width,
        )}
      </Text>
      <Text bold>Latency histogram</Text>
      {bars.length ? (
        <BarChart data={bars} showValue="right" width={Math.min(p.width, 72)} />
      ) : (
        <Text dimColor>no responses yet</Text>
      )}
    </Box>
  );
}

function Report({
  text,
  width,
  height,
  active,
}: {
  text: string;
  width: number;
  height: number;
  active: boolean;
}) {
  const lines = text.trimEnd().split("\n");
  const { top } = useScroll(lines.length, height, active);
  return (
    <Box flexDirection="column">
      {lines.slice(top, top + height).map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in a scrolled window
        <Text key={top + i}>{fit(l, width)}</Text>
      ))}
    </Box>
  );
}

export function BenchScreen(p: BenchScreenProps) {
  const { state, start, cancel, reset } = useBench(p.runner);
  const [form, setForm] = useState(false);
  const [values, setValues] = useState<Record<string, string> | null>(null);
  const [error, setError] = useState("");

  useEffect(() => p.onCapture(form), [form, p.onCapture]);

  useLatestInput(
    (_input, key) => {
      if (state.phase === "running") {
        if (key.escape) cancel();
      } else if (key.return && p.runner) {
        reset();
        setError("");
        setForm(true);
      }
    },
    { isActive: p.active && !form },
  );

  if (!p.active) return null;
  const ended = state.phase === "done" || state.phase === "failed" || state.phase === "cancelled";
  return (
    <Box flexDirection="column" height={p.height}>
      {!p.runner ? <Text color="yellow">uvs bench is not available in this build.</Text> : null}
      {form ? (
        <Form
          title="Benchmark (uvs bench)"
          fields={benchFields(values, p.defaultUrl)}
          error={error}
          width={p.width}
          onCancel={() => setForm(false)}
          onSubmit={(v) => {
            setValues(v);
            const opts = readBenchForm(v);
            if (typeof opts === "string") setError(opts);
            else {
              setForm(false);
              start(opts);
            }
          }}
        />
      ) : state.phase === "running" && state.opts ? (
        <BenchLive opts={state.opts} progress={state.progress} width={p.width} height={p.height} />
      ) : ended ? (
        <Box flexDirection="column">
          <Text color={state.phase === "done" ? "green" : state.phase === "cancelled" ? "yellow" : "red"}>
            {fit(
              state.phase === "done"
                ? "Finished."
                : state.phase === "cancelled"
                  ? "Stopped."
                  : `Failed: ${state.error}`,
              p.width,
            )}
          </Text>
          <Report text={state.report} width={p.width} height={p.height - 1} active={p.active && !form} />
        </Box>
      ) : p.runner ? (
        <Text dimColor>Enter: set up and run a benchmark against {p.defaultUrl}</Text>
      ) : null}
    </Box>
  );
}
