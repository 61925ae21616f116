/**
 * Run a plan's steps: `check` only looks, `apply` fixes what does not hold and looks again. Both
 * return one outcome per step so the CLI can say what changed, what was already so and what failed.
 */
import type { Step } from "./plan.ts";
import type { RsSystem } from "./system.ts";

export type OutcomeStatus = "ok" | "changed" | "missing" | "failed";

export interface Outcome {
  what: string;
  status: OutcomeStatus;
  /** changed: what it was; missing: what is found instead; failed: why. */
  detail?: string;
}

export function check(steps: Step[], sys: RsSystem): Outcome[] {
  return steps.map((s) => {
    const found = s.test(sys);
    return found === undefined
      ? { what: s.what, status: "ok" }
      : { what: s.what, status: "missing", detail: found };
  });
}

export function apply(steps: Step[], sys: RsSystem): Outcome[] {
  return steps.map((s) => {
    const before = s.test(sys);
    if (before === undefined) return { what: s.what, status: "ok" };
    if (s.dev && !sys.link(s.dev).exists)
      return { what: s.what, status: "failed", detail: `${s.dev} does not exist` };
    const err = s.fix(sys);
    if (err) return { what: s.what, status: "failed", detail: err };
    const after = s.test(sys);
    if (after !== undefined)
      return { what: s.what, status: "failed", detail: `still ${after} after the change` };
    return { what: s.what, status: "changed", detail: `before: ${before}` };
  });
}

const LABEL: Record<OutcomeStatus, string> = {
  ok: "ok",
  changed: "set",
  missing: "MISSING",
  failed: "FAILED",
};

export function formatOutcomes(outcomes: Outcome[]): string {
  return outcomes
    .map((o) => `${LABEL[o.status].padEnd(8)}${o.what}${o.detail ? ` (${o.detail})` : ""}\n`)
    .join("");
}

export function countBy(outcomes: Outcome[], status: OutcomeStatus): number {
  return outcomes.filter((o) => o.status === status).length;
}
