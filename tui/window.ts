/** Scrolling arithmetic shared by the list screens (pure). */

/** Clamp `i` into [0, n-1] (0 for an empty list). */
export const clampIndex = (i: number, n: number) => (n <= 0 ? 0 : Math.max(0, Math.min(n - 1, i)));

/** The first visible row so that `selected` stays inside a window of `height` rows. */
export function scrollTop(prevTop: number, selected: number, height: number, n: number): number {
  if (height <= 0) return 0;
  let top = prevTop;
  if (selected < top) top = selected;
  if (selected >= top + height) top = selected - height + 1;
  return Math.max(0, Math.min(top, Math.max(0, n - height)));
}

/** Cut or pad `s` to exactly `w` columns (the TUI's text is single-width). */
export function fit(s: string, w: number): string {
  if (w <= 0) return "";
  return s.length > w ? s.slice(0, w) : s.padEnd(w);
}

/** Cut `s` to at most `w` columns, with an ellipsis when cut. */
export function cut(s: string, w: number): string {
  if (w <= 0) return "";
  return s.length > w ? `${s.slice(0, Math.max(0, w - 1))}…` : s;
}
