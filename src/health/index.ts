/** The health module's public face for the daemon and the CLI. */
export { type Clock, FakeClock, realClock } from "./clock.ts";
export { applyHealth, type HealthView } from "./overlay.ts";
export { HealthRunner, type RunnerOptions } from "./runner.ts";
