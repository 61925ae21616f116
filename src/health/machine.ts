/**
 * keepalived's per-checker state machine (§2.1–2.3), pure: a result in, the new state, the
 * transition (if any) and the delay before the next check out. One URL per check for HTTP_GET /
 * SSL_GET; the other checkers have a single "URL".
 *
 * - An UP checker goes DOWN after retry+1 consecutive failures, `delay_before_retry` apart; the
 *   first check after start has no retries (retry_it is pre-set to retry).
 * - A DOWN checker comes UP after one success (HTTP: after a full sweep of every URL).
 * - alpha: the checker starts DOWN.
 */

export interface MachineConfig {
  retry: number;
  delayLoop: number;
  delayBeforeRetry: number;
  /** How many URLs a sweep has (1 for non-HTTP checkers). */
  urls: number;
  fastRecovery?: boolean;
}

export interface MachineState {
  up: boolean;
  hasRun: boolean;
  retryIt: number;
  /** The URL the next check probes. */
  url: number;
  /** While down: the URL that failed (only it is probed until it passes). */
  failedUrl: number | null;
}

export interface Step {
  state: MachineState;
  /** "up"/"down" when the checker was marked (also the first result after start); else null. */
  mark: "up" | "down" | null;
  /** Milliseconds until the next check. */
  next: number;
}

export function initialState(cfg: MachineConfig, alpha: boolean): MachineState {
  return { up: !alpha, hasRun: false, retryIt: cfg.retry, url: 0, failedUrl: null };
}

function success(cfg: MachineConfig, s: MachineState): Step {
  const recovering = !s.up || !s.hasRun;
  if (s.failedUrl !== null) {
    // The failed URL passes again: a full sweep from the first URL must pass before UP.
    const state = { ...s, retryIt: 0, failedUrl: null, url: 0, hasRun: true };
    if (cfg.urls === 1) return { state: { ...state, up: true }, mark: "up", next: cfg.delayLoop };
    return { state, mark: null, next: cfg.fastRecovery ? 0 : cfg.delayLoop };
  }
  if (s.url + 1 < cfg.urls) {
    const fast = cfg.fastRecovery && recovering;
    return { state: { ...s, url: s.url + 1, retryIt: 0 }, mark: null, next: fast ? 0 : cfg.delayLoop };
  }
  const state = { ...s, up: true, hasRun: true, retryIt: 0, url: 0 };
  return { state, mark: recovering ? "up" : null, next: cfg.delayLoop };
}

function failure(cfg: MachineConfig, s: MachineState): Step {
  if ((s.up || !s.hasRun) && s.retryIt >= cfg.retry) {
    const state = { ...s, up: false, hasRun: true, retryIt: 0, failedUrl: s.url, url: s.url };
    return { state, mark: "down", next: downDelay(cfg) };
  }
  if (s.up) return { state: { ...s, retryIt: s.retryIt + 1 }, mark: null, next: cfg.delayBeforeRetry };
  // Already down: keep probing the URL that failed.
  const failedUrl = s.failedUrl ?? s.url;
  return { state: { ...s, failedUrl, url: failedUrl }, mark: null, next: downDelay(cfg) };
}

/** While down, HTTP probes the failed URL every max(delay_before_retry, delay_loop). */
function downDelay(cfg: MachineConfig): number {
  return cfg.urls > 1 ? Math.max(cfg.delayBeforeRetry, cfg.delayLoop) : cfg.delayLoop;
}

export function step(cfg: MachineConfig, s: MachineState, ok: boolean): Step {
  return ok ? success(cfg, s) : failure(cfg, s);
}
