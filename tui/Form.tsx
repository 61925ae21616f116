/** A modal form: text and choice fields; Enter submits, Esc cancels. The error is shown under it. */
import { Box, Text } from "ink";
import { useReducer, useRef, useState } from "react";
import type { FieldDef } from "./actions.ts";
import { LineView } from "./LineView.tsx";
import { editLine, type LineState } from "./line-edit.ts";
import { useLatestInput } from "./use-latest-input.ts";

export interface FormProps {
  title: string;
  fields: readonly FieldDef[];
  /** the last refusal (ipvsadm's stderr), shown under the fields */
  error?: string;
  busy?: boolean;
  width: number;
  onSubmit(values: Record<string, string>): void;
  onCancel(): void;
}

export function Form({ title, fields, error, busy, width, onSubmit, onCancel }: FormProps) {
  // Keys arrive in bursts (typing fast, ssh, a paste), each before React renders the one before:
  // the form's state lives here and every key edits it; a render only shows it.
  const [initial] = useState(() => ({
    values: Object.fromEntries(fields.map((f) => [f.name, f.initial])) as Record<string, string>,
    focus: 0,
    cursor: (fields[0]?.initial ?? "").length,
  }));
  const latest = useRef(initial);
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const { values, focus, cursor } = latest.current;
  const labelW = Math.max(...fields.map((f) => f.label.length)) + 2;
  const update = (name: string, v: string) => {
    latest.current.values = { ...latest.current.values, [name]: v };
    redraw();
  };
  const setLine = (name: string, l: LineState) => {
    latest.current.cursor = l.cursor;
    update(name, l.text);
  };
  const setFocus = (i: number) => {
    latest.current.focus = i;
    // The cursor goes to the end of the field it enters.
    latest.current.cursor = (latest.current.values[fields[i].name] ?? "").length;
    redraw();
  };

  const cycle = (f: FieldDef, step: number) => {
    const cs = f.choices ?? [];
    const i = cs.indexOf(latest.current.values[f.name]);
    update(f.name, cs[(i + step + cs.length) % cs.length]);
  };

  useLatestInput(
    (input, key) => {
      const { focus } = latest.current;
      const f = fields[focus];
      if (key.escape) onCancel();
      else if (key.return) onSubmit(latest.current.values);
      else if ((key.tab && key.shift) || key.upArrow) setFocus((focus - 1 + fields.length) % fields.length);
      else if (key.tab || key.downArrow) setFocus((focus + 1) % fields.length);
      else if (f.kind === "choice" && (key.leftArrow || key.rightArrow || input === " "))
        cycle(f, key.leftArrow ? -1 : 1);
      else if (f.kind !== "choice") {
        const next = editLine(
          { text: latest.current.values[f.name], cursor: latest.current.cursor },
          input,
          key,
        );
        if (next) setLine(f.name, next);
      }
    },
    { isActive: !busy },
  );

  return (
    <Box
      flexDirection="column"
      borderStyle="round"
      borderColor="cyan"
      paddingX={1}
      width={Math.min(width, 76)}
    >
      <Text bold>{title}</Text>
      {fields.map((f, i) => (
        <Box key={f.name}>
          <Text color={i === focus ? "cyan" : undefined}>
            {i === focus ? "›" : " "} {f.label.padEnd(labelW)}
          </Text>
          {f.kind === "choice" ? (
            <Text>
              {(f.choices ?? []).map((c) => (c === values[f.name] ? `[${c}]` : ` ${c} `)).join(" ")}
            </Text>
          ) : i === focus && !busy ? (
            <LineView line={{ text: values[f.name], cursor }} />
          ) : (
            <Text>{values[f.name]}</Text>
          )}
          {f.hint && i === focus ? <Text dimColor> {f.hint}</Text> : null}
        </Box>
      ))}
      {error ? <Text color="red">{error}</Text> : null}
      <Text dimColor>{busy ? "applying…" : "Enter apply · Esc cancel · Tab/↑↓ field · ←→ choice"}</Text>
    </Box>
  );
}
