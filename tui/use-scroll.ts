/** ↑↓ PgUp PgDn g G scrolling of a list of `n` rows in a window of `height`; `follow` sticks to the end. */

import { useState } from "react";
import { useLatestInput } from "./use-latest-input.ts";

export function useScroll(n: number, height: number, active: boolean, follow = false) {
  const [top, setTop] = useState<number | null>(follow ? null : 0);
  const maxTop = Math.max(0, n - height);
  const shownTop = top === null ? maxTop : Math.min(top, maxTop);
  const to = (t: number) => {
    const c = Math.max(0, Math.min(maxTop, t));
    setTop(follow && c >= maxTop ? null : c);
  };
  useLatestInput(
    (input, key) => {
      if (key.upArrow || input === "k") to(shownTop - 1);
      else if (key.downArrow || input === "j") to(shownTop + 1);
      else if (key.pageUp) to(shownTop - height);
      else if (key.pageDown) to(shownTop + height);
      else if (input === "g" || key.home) to(0);
      else if (input === "G" || key.end) to(maxTop);
    },
    { isActive: active },
  );
  return { top: shownTop, following: top === null };
}
