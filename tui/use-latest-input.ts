/**
 * useInput whose handler is always the one from the latest render. Ink re-subscribes a changed
 * handler in an effect after the frame is written; a key arriving in between would otherwise see
 * the state of the frame before (a lost keystroke, a stale selection).
 */
import { type Key, useInput } from "ink";
import { useCallback, useRef } from "react";

export function useLatestInput(
  handler: (input: string, key: Key) => void,
  opts: { isActive?: boolean } = {},
) {
  const ref = useRef(handler);
  ref.current = handler;
  const stable = useCallback((input: string, key: Key) => ref.current(input, key), []);
  useInput(stable, opts);
}
