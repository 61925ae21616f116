/** A modal form: text and choice fields; Enter submits, Esc cancels. The error is shown under it. */
import { Box, Text } from "ink";
import { useRef, useState } from "react";
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
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(fields.map((f) => [f.name, f.initial])),
  );
  const [focus, setFocusState] = useState(0);
  const [cursor, setCursor] = useState(() => (fields[0]?.initial ?? "").length);
  const labelW = Math.max(...fields.map((f) => f.label.length)) + 2;
  // Keys arrive in bursts (typing fast, ssh, a paste), each before React renders the one before:
  // every key edits the latest state, kept here, never the rendered one.
  const latest = useRef({ values, focus, cursor });
  const update = (name: string, v: string) => {
    latest.current.values = { ...latest.current.values, [name]: v };
    setValues(latest.current.values);
  };
  const setLine = (name: string, l: LineState) => {
    update(name, l.text);
    latest.current.cursor = l.cursor;
    setCursor(l.cursor);
  };
  const setFocus = (i: number) => {
    latest.current.focus = i;
    setFocusState(i);
    // The cursor goes to the end of the field it enters.
    latest.current.cursor = (latest.current.values[fields[i].name] ?? "").length;
    setCursor(latest.current.cursor);
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
            <LineView line={{ text: values[f.name], cursor: Math.min(cursor, values[f.name].length) }} />
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
