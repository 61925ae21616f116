/**
 * The uvs TUI: a header with the screens, the current screen, a status line and the keys.
 * Data arrives through hooks (snapshots ≤ 4 Hz, events); changes go out as ipvsadm command lines.
 */
import { Box, useApp, useInput } from "ink";
import { useCallback, useMemo, useRef, useState } from "react";
import { versionLine } from "../src/cli/ipvsadm/format.ts";
import type { Snapshot } from "../src/model/snapshot.ts";
import { BenchScreen } from "./BenchScreen.tsx";
import { ConnectionsScreen } from "./ConnectionsScreen.tsx";
import { EventsScreen } from "./EventsScreen.tsx";
import { healthOf, vrrpOf } from "./extras.ts";
import { Footer } from "./Footer.tsx";
import { HaScreen } from "./HaScreen.tsx";
import { Header } from "./Header.tsx";
import { HealthScreen } from "./HealthScreen.tsx";
import { HelpScreen } from "./HelpScreen.tsx";
import { KeyFrames } from "./KeyFrames.tsx";
import { FORM_KEYS, GLOBAL_KEYS, SCREEN_KEYS, SCREENS, type ScreenId } from "./keys.ts";
import { Opaque } from "./opaque.ts";
import { ServicesScreen } from "./ServicesScreen.tsx";
import { type Status, StatusLine } from "./StatusLine.tsx";
import type { BenchRunner, DataSource } from "./types.ts";
import { useEvents } from "./use-events.ts";
import { useSnapshot } from "./use-snapshot.ts";
import { useTerminalSize } from "./use-terminal-size.ts";

export interface AppProps {
  source: DataSource;
  /** the load generator for the Bench screen (src/bench/api.ts); tests pass a fake */
  bench?: BenchRunner | null;
  /** snapshot refresh period; never faster than 250 ms (4 Hz) */
  refreshMs?: number;
  eventsMs?: number;
  /** the clock for history sampling (tests) */
  now?: () => number;
  initialScreen?: ScreenId;
}

/** `http://VIP:PORT/` of the first TCP service, for the Bench form. */
export function defaultBenchUrl(snap: Snapshot | null): string {
  const s = snap?.services.find((x) => x.protocol === "tcp" && x.address !== null);
  if (!s?.address) return "http://127.0.0.1:8080/";
  return s.af === "inet6" ? `http://[${s.address}]:${s.port}/` : `http://${s.address}:${s.port}/`;
}

export function App(p: AppProps) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const wantConns = useRef(p.initialScreen === "connections");
  const snap = useSnapshot(p.source, p.refreshMs ?? 250, p.now, () => wantConns.current);
  const ev = useEvents(p.source, p.eventsMs ?? 500);
  const health = useMemo(() => healthOf(snap.snapshot), [snap.snapshot]);
  const vrrp = useMemo(() => vrrpOf(snap.snapshot), [snap.snapshot]);
  const connections = useMemo(() => new Opaque(snap.snapshot?.connections ?? []), [snap.snapshot]);
  const version = useMemo(
    () => (snap.snapshot ? versionLine(snap.snapshot).trimEnd() : null),
    [snap.snapshot],
  );
  const visible = SCREENS.filter((s) => (s.id === "health" ? health : s.id === "ha" ? vrrp : true));
  const [screen, setScreen] = useState<ScreenId>(p.initialScreen ?? "services");
  const current = visible.some((s) => s.id === screen) ? screen : "services";
  if (wantConns.current !== (current === "connections")) {
    // Fetch the entries only while they are on screen; on arrival, refresh at once.
    wantConns.current = current === "connections";
    if (wantConns.current) queueMicrotask(() => snap.refresh());
  }
  const [help, setHelp] = useState(false);
  const [captures, setCaptures] = useState<Partial<Record<ScreenId, boolean>>>({});
  const capturing = Object.values(captures).some(Boolean);
  const [status, setStatus] = useState<Status | null>(null);
  const [connFilter, setConnFilter] = useState("");

  const captureOf = useMemo(() => {
    const f = (id: ScreenId) => (on: boolean) =>
      setCaptures((c) => (Boolean(c[id]) === on ? c : { ...c, [id]: on }));
    return Object.fromEntries(SCREENS.map((s) => [s.id, f(s.id)])) as Record<ScreenId, (on: boolean) => void>;
  }, []);

  const { refresh } = snap;
  const source = p.source;
  const run = useCallback(
    async (argv: string[]) => {
      const r = await source.ipvsadm(argv);
      refresh();
      return r;
    },
    [source, refresh],
  );

  // Keys may arrive before Ink re-subscribes this handler after a render: read the latest state.
  const latest = useRef({ visible, current, help });
  latest.current = { visible, current, help };
  useInput(
    (input, key) => {
      const { visible, current, help } = latest.current;
      if (help) {
        if (input === "?" || key.escape || input === "q") setHelp(false);
        return;
      }
      if (input === "q") exit();
      else if (input === "?") setHelp(true);
      else if (key.tab) {
        const i = visible.findIndex((s) => s.id === current);
        const next = visible[(i + (key.shift ? -1 : 1) + visible.length) % visible.length];
        setScreen(next.id);
      } else {
        const s = visible.find((x) => x.key === input);
        if (s) setScreen(s.id);
      }
    },
    { isActive: !capturing },
  );

  const bodyH = Math.max(3, rows - 4);
  const now = snap.updatedAt ?? Date.now();
  const on = (id: ScreenId) => current === id && !help;
  const keys = capturing ? FORM_KEYS : help ? [] : SCREEN_KEYS[current];
  return (
    <Box flexDirection="column" width={columns} height={Math.max(4, rows - 1)}>
      <Header
        screens={visible}
        current={current}
        source={p.source.label}
        updatedAt={snap.updatedAt}
        error={snap.error}
        width={columns}
      />
      <Box flexDirection="column" height={bodyH} overflow="hidden">
        {help ? <HelpScreen screen={current} width={columns} height={bodyH} /> : null}
        <ServicesScreen
          active={on("services")}
          width={columns}
          height={bodyH}
          versionLine={version}
          rows={snap.rows}
          history={snap.history}
          health={health}
          run={run}
          onCapture={captureOf.services}
          onStatus={setStatus}
          onShowConnections={(f) => {
            setConnFilter(f);
            setScreen("connections");
          }}
        />
        <ConnectionsScreen
          active={on("connections")}
          width={columns}
          height={bodyH}
          connections={connections}
          filter={connFilter}
          onFilter={setConnFilter}
          onCapture={captureOf.connections}
        />
        {health ? (
          <HealthScreen active={on("health")} width={columns} height={bodyH} health={health} now={now} />
        ) : null}
        {vrrp ? (
          <HaScreen active={on("ha")} width={columns} height={bodyH} instances={vrrp} now={now} />
        ) : null}
        <BenchScreen
          active={on("bench")}
          width={columns}
          height={bodyH}
          runner={p.bench ?? null}
          defaultUrl={defaultBenchUrl(snap.snapshot)}
          onCapture={captureOf.bench}
        />
        <EventsScreen
          active={on("events")}
          width={columns}
          height={bodyH}
          available={ev.available}
          events={ev.events}
          error={ev.error}
        />
      </Box>
      <StatusLine status={status} width={columns} />
      <Footer keys={keys} always={capturing ? [] : GLOBAL_KEYS} width={columns} />
      <KeyFrames />
    </Box>
  );
}
