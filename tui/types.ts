/** What the TUI's hooks and screens share: the data source and the bench runner, as interfaces. */
import type { DaemonEvent } from "../src/control/protocol.ts";
import type { Snapshot } from "../src/model/snapshot.ts";

export type TuiEvent = DaemonEvent;

/** The result of one ipvsadm command line: `stderr` is the message to show. */
export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Where snapshots come from and where changes go: the daemon's control socket or a state file. */
export interface DataSource {
  /** Shown in the header, e.g. `daemon /run/uvs/uvs.sock` or `state /tmp/s.json`. */
  label: string;
  /** `connections: false`: the tables only, without the (possibly huge) connection entries. */
  snapshot(opts?: { connections?: boolean }): Promise<Snapshot>;
  /** The daemon's event log after sequence `since`; null when the source has none (--state). */
  events: ((since: number) => Promise<TuiEvent[]>) | null;
  /** Run one ipvsadm command line against the director (as `uvs ipvsadm ARGV…`). */
  ipvsadm(argv: string[]): Promise<CommandResult>;
  close(): void;
}

import type { BenchProgress, BenchOptions as FullBenchOptions } from "../src/bench/api.ts";

/** The bench options the form fills in: the fields of src/bench/api.ts's BenchOptions the TUI sets. */
export type BenchOptions = Pick<
  FullBenchOptions,
  "url" | "requests" | "concurrency" | "keepAlive" | "timeLimitS"
>;
export type { BenchProgress };

/** The contract of src/bench/api.ts, injected so tests can use a fake. */
export interface BenchRunner<R = unknown> {
  startBench(
    opts: BenchOptions,
    onProgress?: (p: BenchProgress) => void,
  ): { result: Promise<R>; cancel(): void };
  formatReport(r: R, opts: BenchOptions): string;
}
