/** One interface for every checker (Seesaw's Checker): a spec in, a result out, never a throw. */
import type { CheckSpec } from "../rules/health-settings.ts";
import type { CheckResult } from "./result.ts";

export interface CheckContext {
  spec: CheckSpec;
  /** HTTP_GET / SSL_GET: which URL of the sweep this check probes. */
  url: number;
  /** Aborted when the checker is removed (a running MISC script is then killed). */
  signal?: AbortSignal;
}

export type Checker = (ctx: CheckContext) => Promise<CheckResult>;
