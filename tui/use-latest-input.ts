/**
 * useInput whose handler is always the one from the latest render. Ink re-subscribes a changed
 * handler in an effect after the frame is written; a key arriving in between would otherwise see
 * the state of the frame before (a lost keystroke, a stale selection).
 */
import { type Key, useInput } from "ink";
import { useCallback, useRef } from "react";
import { splitBurst } from "./key-burst.ts";

export function useLatestInput(
  handler: (input: string, key: Key) => void,
  opts: { isActive?: boolean } = {},
) {
  const ref = useRef(handler);
  ref.current = handler;
  // A burst of keys in one read is handled key by key (key-burst.ts).
  const stable = useCallback((input: string, key: Key) => {
    for (const [i, k] of splitBurst(input, key)) ref.current(i, k);
  }, []);
  useInput(stable, opts);
}
