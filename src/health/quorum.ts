/**
 * keepalived's quorum with hysteresis (§2.6), pure. `live` is the summed weight of alive real
 * servers; the quorum is clamped to the total weight and the hysteresis to quorum−1.
 * Lost when up and (live == 0 or live < quorum − hysteresis); gained when down and
 * live ≥ quorum + hysteresis. A pool between the two keeps its state, so it does not flap.
 */

export interface QuorumInput {
  live: number;
  total: number;
  quorum: number;
  hysteresis: number;
}

function clamp(i: QuorumInput): { q: number; h: number } {
  const q = Math.max(0, Math.min(i.quorum, i.total));
  return { q, h: Math.max(0, Math.min(i.hysteresis, q - 1)) };
}

/** The next quorum state; `prev` null means startup (up iff live ≥ quorum + hysteresis). */
export function quorumStep(prev: boolean | null, i: QuorumInput): boolean {
  const { q, h } = clamp(i);
  if (prev === null) return i.live >= q + h && i.live > 0;
  if (prev) return !(i.live === 0 || i.live < q - h);
  return i.live >= q + h && i.live > 0;
}
