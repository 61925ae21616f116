/**
 * Frames of the TUI through ink-testing-library at a fixed terminal size (TerminalSizeContext pins
 * what useTerminalSize reports; ink-testing-library's stdout is 100 columns, wider than any test).
 */
import { render } from "ink-testing-library";
import type { ReactElement } from "react";
import { App, type AppProps } from "../../tui/App.tsx";
import { TerminalSizeContext } from "../../tui/use-terminal-size.ts";

process.env.TZ = "UTC";

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
export const plain = (s: string | undefined) => (s ?? "").replace(ANSI, "");

export const KEY = {
  up: "\x1b[A",
  down: "\x1b[B",
  right: "\x1b[C",
  left: "\x1b[D",
  pageDown: "\x1b[6~",
  pageUp: "\x1b[5~",
  enter: "\r",
  escape: "\x1b",
  tab: "\t",
  shiftTab: "\x1b[Z",
  backspace: "\x7f",
};

export function sized(tree: ReactElement, columns: number, rows: number): ReactElement {
  return <TerminalSizeContext.Provider value={{ columns, rows }}>{tree}</TerminalSizeContext.Provider>;
}

export function renderApp(props: AppProps, columns = 80, rows = 24) {
  const inst = render(sized(<App refreshMs={250} eventsMs={250} {...props} />, columns, rows));
  const frame = () => plain(inst.lastFrame());
  return {
    ...inst,
    frame,
    resize: (c: number, r: number) =>
      inst.rerender(sized(<App refreshMs={250} eventsMs={250} {...props} />, c, r)),
    /** type keys one at a time, letting Ink handle each */
    async press(...keys: string[]) {
      // Ink re-subscribes input handlers in effects after a frame is written: let them run first.
      await Bun.sleep(30);
      for (const k of keys) {
        inst.stdin.write(k);
        await Bun.sleep(30);
      }
    },
    /** wait until the frame satisfies `pred` (fails the test with the last frame otherwise) */
    async until(pred: (f: string) => boolean, what = "the expected frame", ms = 2000): Promise<string> {
      const end = Date.now() + ms;
      for (;;) {
        const f = frame();
        if (pred(f)) return f;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last frame:\n${f}`);
        await Bun.sleep(10);
      }
    },
  };
}
