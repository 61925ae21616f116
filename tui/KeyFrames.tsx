/**
 * A key's frame at once, while snapshots still redraw at most 4 times a second.
 *
 * src/cli/tui.ts renders with Ink's `maxFps: 4`, and Ink throttles every frame alike: with
 * snapshots redrawing 4 times a second, a key's frame waited for the throttle, up to 250 ms (280 ms
 * median measured pressing ↓ with 1,000 services). Ink writes a frame at once, throttled or not, when
 * a <Static> node changes (so that its items are on the terminal before they are erased). An empty
 * <Static> that re-renders after each key's handlers have run uses that: the key's frame, with every
 * change the key made, is written at once; an empty <Static> writes nothing of its own.
 */
import { Static, useInput } from "ink";
import { useRef, useState } from "react";

const NONE: never[] = [];
const nothing = () => null;

/** How many key frames were forced (tests). */
export const keyFrameCount = { n: 0 };

export function KeyFrames() {
  const [, setN] = useState(0);
  const pending = useRef(false);
  useInput(() => {
    if (pending.current) return;
    pending.current = true;
    // Each handler's state change renders synchronously (Ink's legacy root); this runs after all
    // of them, whatever order Ink calls them in, and once for a burst of keys in one read.
    queueMicrotask(() => {
      pending.current = false;
      keyFrameCount.n++;
      setN((n) => n + 1);
    });
  });
  return <Static items={NONE}>{nothing}</Static>;
}
