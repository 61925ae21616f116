/** The Services screen: the ipvsadm table and the changes made from it (weight, quiesce, add, delete, zero). */
import { Box, Text } from "ink";
import { useEffect, useRef, useState } from "react";
import {
  addServerForm,
  addServiceForm,
  deleteArgv,
  editServerArgv,
  type FormSpec,
  shownCommand,
  weightForm,
  zeroArgv,
} from "./actions.ts";
import { filterFor } from "./conn-filter.ts";
import type { HealthEntry } from "./extras.ts";
import { Form } from "./Form.tsx";
import type { Opaque } from "./opaque.ts";
import { ServicesTable } from "./ServicesTable.tsx";
import type { Status } from "./StatusLine.tsx";
import { destKey, SERVICE_VIEWS, type ServiceRow, type ServiceView } from "./service-rows.ts";
import type { CommandResult } from "./types.ts";
import { useLatestInput } from "./use-latest-input.ts";
import { clampIndex, scrollTop } from "./window.ts";

export interface ServicesScreenProps {
  active: boolean;
  width: number;
  height: number;
  /** ipvsadm's version line of the snapshot; null before the first one */
  versionLine: string | null;
  rows: Opaque<readonly ServiceRow[]>;
  history: ReadonlyMap<string, number[]>;
  health: HealthEntry[] | null;
  /** run one ipvsadm command line against the director, then refresh */
  run(argv: string[]): Promise<CommandResult>;
  onCapture(capturing: boolean): void;
  onStatus(s: Status): void;
  onShowConnections(filter: string): void;
}

type Modal = { kind: "form"; spec: FormSpec } | { kind: "confirm"; question: string; argv: string[] } | null;

const rowKey = (r: ServiceRow) => (r.line ? destKey(r) : r.svcRule);

/** Where the row `key` is now: usually where it was, else searched outward (tables change little). */
function findRow(rows: readonly ServiceRow[], key: string, near: number): number {
  // Nothing selected yet: the position is all there is (a search for "" would visit every row).
  if (!key) return near;
  for (let d = 0; d < rows.length; d++) {
    const a = near - d;
    const b = near + d;
    if (a >= 0 && a < rows.length && rowKey(rows[a]) === key) return a;
    if (b >= 0 && b < rows.length && b !== a && rowKey(rows[b]) === key) return b;
    if (a < 0 && b >= rows.length) break;
  }
  return near;
}

export function ServicesScreen(p: ServicesScreenProps) {
  const [view, setView] = useState<ServiceView>("default");
  const [selKey, setSelKey] = useState<{ key: string; idx: number }>({ key: "", idx: 0 });
  const [top, setTop] = useState(0);
  const [modal, setModal] = useState<Modal>(null);
  const [formError, setFormError] = useState("");
  const [busy, setBusy] = useState(false);
  /** weights before a quiesce, so x can restore them */
  const remembered = useRef(new Map<string, number>());

  const rows = p.rows.value;
  const selected = clampIndex(findRow(rows, selKey.key, selKey.idx), rows.length);
  const row: ServiceRow | undefined = rows[selected];
  const bodyH = Math.max(1, p.height - 3);
  const shownTop = scrollTop(top, selected, bodyH, rows.length);

  useEffect(() => p.onCapture(modal !== null), [modal, p.onCapture]);

  const select = (i: number) => {
    const idx = clampIndex(i, rows.length);
    const r = rows[idx];
    setSelKey({ key: r ? rowKey(r) : "", idx });
    setTop(scrollTop(shownTop, idx, bodyH, rows.length));
  };

  const apply = async (argv: string[], done: string, keepFormOnError: boolean) => {
    setBusy(true);
    const res = await p.run(argv);
    setBusy(false);
    const msg = res.stderr.trim();
    if (res.code === 0) {
      setModal(null);
      setFormError("");
      p.onStatus({ level: "info", text: `${done} — ${shownCommand(argv)}` });
      return true;
    }
    if (keepFormOnError) setFormError(msg || `exit status ${res.code}`);
    else {
      setModal(null);
      p.onStatus({ level: "error", text: `${shownCommand(argv)}: ${msg || `exit status ${res.code}`}` });
    }
    return false;
  };

  const openForm = (spec: FormSpec) => {
    setFormError("");
    setModal({ kind: "form", spec });
  };

  const quiesceOrRestore = (r: ServiceRow) => {
    const d = r.dest;
    if (!d) return;
    const k = destKey(r);
    if (d.weight > 0) {
      void apply(editServerArgv(r, "0"), `${r.destText} quiesced (was weight ${d.weight})`, false).then(
        (ok) => {
          if (ok) remembered.current.set(k, d.weight);
        },
      );
      return;
    }
    const w = remembered.current.get(k);
    if (w === undefined) {
      openForm({
        ...weightForm(r),
        title: `Restore ${r.destText}: weight`,
        fields: [{ name: "weight", label: "Weight", kind: "text", initial: "1" }],
      });
      return;
    }
    void apply(editServerArgv(r, String(w)), `${r.destText} restored to weight ${w}`, false).then((ok) => {
      if (ok) remembered.current.delete(k);
    });
  };

  useLatestInput(
    (input, key) => {
      if (modal?.kind === "confirm") {
        if (input === "y" || input === "Y") void apply(modal.argv, "done", false);
        else if (input === "n" || input === "N" || key.escape) setModal(null);
        return;
      }
      if (key.upArrow || input === "k") select(selected - 1);
      else if (key.downArrow || input === "j") select(selected + 1);
      else if (key.pageUp) select(selected - bodyH);
      else if (key.pageDown) select(selected + bodyH);
      else if (input === "g" || key.home) select(0);
      else if (input === "G" || key.end) select(rows.length - 1);
      else if (input === "v")
        setView(SERVICE_VIEWS[(SERVICE_VIEWS.indexOf(view) + 1) % SERVICE_VIEWS.length]);
      else if (input === "s") setView(view === "stats" ? "default" : "stats");
      else if (input === "r") setView(view === "rate" ? "default" : "rate");
      else if (input === "a") openForm(addServiceForm());
      else if (input === "Z")
        setModal({ kind: "confirm", question: "Zero the counters of every service?", argv: zeroArgv(null) });
      else if (!row) return;
      else if (input === "w" && row.dest) openForm(weightForm(row));
      else if (input === "x" && row.dest) quiesceOrRestore(row);
      else if (input === "n") openForm(addServerForm(row));
      else if (input === "z") void apply(zeroArgv(row), "counters zeroed", false);
      else if (input === "D")
        setModal({
          kind: "confirm",
          question: row.dest
            ? `Delete real server ${row.destText} from ${row.svcRule}?`
            : `Delete service ${row.svcRule} and its real servers?`,
          argv: deleteArgv(row),
        });
      else if (input === "c")
        p.onShowConnections(filterFor(row.svcRule.split(" ")[1] ?? "", row.dest ? row.destText : undefined));
    },
    { isActive: p.active && modal?.kind !== "form" && !busy },
  );

  if (!p.active) return null;
  return (
    <Box flexDirection="column" height={p.height}>
      {modal?.kind === "form" ? (
        <Form
          title={modal.spec.title}
          fields={modal.spec.fields}
          error={formError}
          busy={busy}
          width={p.width}
          onCancel={() => setModal(null)}
          onSubmit={(v) => void apply(modal.spec.argv(v), "done", true)}
        />
      ) : (
        <ServicesTable
          rows={p.rows}
          view={view}
          selected={selected}
          top={shownTop}
          height={bodyH - (modal ? 1 : 0)}
          width={p.width}
          history={p.history}
          health={p.health}
          versionLine={p.versionLine ?? "waiting for the first snapshot…"}
        />
      )}
      {modal?.kind === "confirm" ? (
        <Text color="yellow" bold>
          {modal.question} (y/n)
        </Text>
      ) : null}
    </Box>
  );
}
