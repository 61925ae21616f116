/** Every key the TUI answers, as data: the footer shows the short list, `?` the long one. */

export type ScreenId = "services" | "connections" | "health" | "ha" | "bench" | "events";

export interface ScreenInfo {
  id: ScreenId;
  /** the digit that opens it */
  key: string;
  title: string;
}

export const SCREENS: readonly ScreenInfo[] = [
  { id: "services", key: "1", title: "Services" },
  { id: "connections", key: "2", title: "Connections" },
  { id: "health", key: "3", title: "Health" },
  { id: "ha", key: "4", title: "HA" },
  { id: "bench", key: "5", title: "Bench" },
  { id: "events", key: "6", title: "Events" },
];

export interface KeyHelp {
  key: string;
  what: string;
  /** the footer's label for it (keys without one are only in help) */
  footer?: string;
}

export const GLOBAL_KEYS: readonly KeyHelp[] = [
  { key: "1-6", what: "switch screen (Tab / Shift-Tab: next / previous)" },
  { key: "?", what: "help", footer: "help" },
  { key: "q", what: "quit (also Ctrl-C)", footer: "quit" },
];

export const SCREEN_KEYS: Record<ScreenId, readonly KeyHelp[]> = {
  services: [
    { key: "↑↓", what: "select (PgUp/PgDn, g/G: first/last)" },
    { key: "v", what: "view: -Ln → --stats → --rate", footer: "view" },
    { key: "w", what: "change the weight", footer: "weight" },
    { key: "x", what: "quiesce (weight 0) / restore", footer: "quiesce" },
    { key: "a", what: "add a service", footer: "add svc" },
    { key: "n", what: "add a real server to the service", footer: "add server" },
    { key: "D", what: "delete the service or real server", footer: "delete" },
    { key: "z", what: "zero this service's counters (Z: all)", footer: "zero" },
    { key: "c", what: "connections of the selection", footer: "conns" },
  ],
  connections: [
    { key: "↑↓", what: "scroll (PgUp/PgDn, g/G: first/last)" },
    { key: "/", what: "filter: svc=VIP:PORT rs=RIP:PORT state=EST client=ADDR proto=tcp", footer: "filter" },
    { key: "Esc", what: "clear the filter", footer: "clear" },
  ],
  health: [{ key: "↑↓", what: "scroll", footer: "scroll" }],
  ha: [{ key: "↑↓", what: "scroll", footer: "scroll" }],
  bench: [
    { key: "Tab/↑↓", what: "move between fields (form)", footer: "field" },
    { key: "Space", what: "toggle keep-alive (on its field)" },
    { key: "Enter", what: "run the benchmark; a new one after the report", footer: "run" },
    { key: "Esc", what: "stop a running benchmark", footer: "stop" },
    { key: "↑↓", what: "scroll the report" },
  ],
  events: [
    { key: "↑↓", what: "scroll (g/G: oldest/newest, G follows)", footer: "scroll" },
    { key: "l", what: "minimum level: debug → info → notice → warning → error", footer: "level" },
  ],
};

export const FORM_KEYS: readonly KeyHelp[] = [
  { key: "Tab/↑↓", what: "field", footer: "field" },
  { key: "←→", what: "choice", footer: "choice" },
  { key: "Enter", what: "apply", footer: "apply" },
  { key: "Esc", what: "cancel", footer: "cancel" },
];

/** The one-line footer: `key what  key what …`; the `always` keys keep their place at the right. */
export function footerText(keys: readonly KeyHelp[], width: number, always: readonly KeyHelp[] = []): string {
  const part = (k: KeyHelp) => `${k.key} ${k.footer}`;
  const tail = always
    .filter((k) => k.footer)
    .map(part)
    .join("  ");
  let out = "";
  for (const k of keys) {
    if (!k.footer) continue;
    const next = `${out ? "  " : ""}${part(k)}`;
    if (out.length + next.length + (tail ? tail.length + 2 : 0) > width) break;
    out += next;
  }
  if (!tail) return out;
  return `${out}${" ".repeat(Math.max(2, width - out.length - tail.length))}${tail}`.slice(0, width);
}
