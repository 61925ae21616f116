/** One-line editing as a pure step, and bursts of keys cut back into keys. */
import { expect, test } from "bun:test";
import type { Key } from "ink";
import { splitBurst } from "../../tui/key-burst.ts";
import { editLine, type LineState, lineAt } from "../../tui/line-edit.ts";

const k = (over: Partial<Key> = {}) => ({ ...splitBurst("x", {} as Key)[0][1], ...over }) as Key;
const type = (s: LineState, ...keys: [string, Partial<Key>?][]) =>
  keys.reduce((st, [input, key]) => editLine(st, input, k(key)) ?? st, s);

test("insert at the cursor, erase left, move, kill to the start, delete a word", () => {
  expect(
    type(lineAt("wlc"), ["", { delete: true }], ["", { backspace: true }], ["", { delete: true }], ["sed"]),
  ).toEqual({
    text: "sed",
    cursor: 3,
  });
  expect(
    type(lineAt("1270.0.1"), ["", { leftArrow: true }], ["", { home: true }], ["", { rightArrow: true }]),
  ).toEqual({
    text: "1270.0.1",
    cursor: 1,
  });
  expect(type({ text: "1270.0.1", cursor: 3 }, ["."])).toEqual({ text: "127.0.0.1", cursor: 4 });
  expect(type({ text: "abc def", cursor: 4 }, ["u", { ctrl: true }])).toEqual({ text: "def", cursor: 0 });
  expect(type(lineAt("svc=a rs=b"), ["w", { ctrl: true }])).toEqual({ text: "svc=a ", cursor: 6 });
  expect(type(lineAt(""), ["", { backspace: true }])).toEqual({ text: "", cursor: 0 });
  // Enter, Esc, Tab and the vertical keys are not editing keys: the caller handles them.
  for (const key of [{ return: true }, { escape: true }, { tab: true }, { upArrow: true }])
    expect(editLine(lineAt("x"), "", k(key))).toBeNull();
});

test("a burst is cut into its keys: characters one by one, control characters as Ink's keys", () => {
  const keys = splitBurst("\t12\x7f\r\x15", k());
  expect(keys.map(([i]) => i)).toEqual(["", "1", "2", "", "", "u"]);
  expect(keys.map(([, key]) => [key.tab, key.delete, key.return, key.ctrl])).toEqual([
    [true, false, false, false],
    [false, false, false, false],
    [false, false, false, false],
    [false, true, false, false],
    [false, false, true, false],
    [false, false, false, true],
  ]);
  // One key stays as Ink reported it.
  const one = k({ upArrow: true });
  expect(splitBurst("", one)).toEqual([["", one]]);
  expect(splitBurst("a", one)).toEqual([["a", one]]);
});
