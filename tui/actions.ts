/**
 * The Services screen's changes as ipvsadm command lines (pure). Field text goes into argv as the
 * user typed it, so ipvsadm's own parser validates it and its messages are the ones shown.
 */
import type { ServiceRow } from "./service-rows.ts";

export interface FieldDef {
  name: string;
  label: string;
  kind: "text" | "choice";
  /** for kind "choice": cycled with ←/→ or space */
  choices?: readonly string[];
  initial: string;
  hint?: string;
}

export interface FormSpec {
  title: string;
  fields: FieldDef[];
  /** The ipvsadm argv the filled-in form stands for. */
  argv(values: Record<string, string>): string[];
}

const FWD_FLAG: Record<string, string> = { masq: "-m", route: "-g", tunnel: "-i", local: "-g" };
const PROTO_FLAG: Record<string, string> = { tcp: "-t", udp: "-u", sctp: "--sctp-service", fwmark: "-f" };

const svcArgs = (r: ServiceRow) => r.svcRule.split(" ");

/** `-e` for a real server, keeping its forwarding method, thresholds and tunnel settings. */
export function editServerArgv(r: ServiceRow, weight: string): string[] {
  const d = r.dest;
  if (!d) throw new Error("not a real server row");
  const argv = ["-e", ...svcArgs(r), "-r", r.destText, FWD_FLAG[d.forward], "-w", weight];
  if (d.uThreshold) argv.push("-x", String(d.uThreshold));
  if (d.lThreshold) argv.push("-y", String(d.lThreshold));
  if (d.forward === "tunnel" && d.tunType !== "ipip") {
    argv.push("--tun-type", d.tunType);
    if (d.tunType === "gue") argv.push("--tun-port", String(d.tunPort));
    argv.push(`--tun-${d.tunCsum}`);
  }
  return argv;
}

export function weightForm(r: ServiceRow): FormSpec {
  return {
    title: `Weight of ${r.destText} in ${r.svcRule}`,
    fields: [{ name: "weight", label: "Weight", kind: "text", initial: String(r.dest?.weight ?? 1) }],
    argv: (v) => editServerArgv(r, v.weight),
  };
}

export function addServiceForm(): FormSpec {
  return {
    title: "Add a virtual service (ipvsadm -A)",
    fields: [
      {
        name: "proto",
        label: "Protocol",
        kind: "choice",
        choices: ["tcp", "udp", "sctp", "fwmark"],
        initial: "tcp",
      },
      { name: "address", label: "Address", kind: "text", initial: "", hint: "VIP:PORT, [V6]:PORT or a mark" },
      { name: "sched", label: "Scheduler", kind: "text", initial: "wlc" },
      { name: "persist", label: "Persistent", kind: "text", initial: "", hint: "timeout in s, empty: off" },
    ],
    argv: (v) => {
      const argv = ["-A", PROTO_FLAG[v.proto] ?? "-t", v.address, "-s", v.sched];
      if (v.persist.trim() !== "") argv.push("-p", v.persist.trim());
      return argv;
    },
  };
}

export function addServerForm(r: ServiceRow): FormSpec {
  return {
    title: `Add a real server to ${r.svcRule} (ipvsadm -a)`,
    fields: [
      { name: "server", label: "Server", kind: "text", initial: "", hint: "RIP:PORT" },
      {
        name: "forward",
        label: "Forwarding",
        kind: "choice",
        choices: ["masq", "route", "tunnel"],
        initial: "masq",
      },
      { name: "weight", label: "Weight", kind: "text", initial: "1" },
    ],
    argv: (v) => ["-a", ...svcArgs(r), "-r", v.server, FWD_FLAG[v.forward], "-w", v.weight],
  };
}

/** `-D` for a service row, `-d` for a real server row. */
export function deleteArgv(r: ServiceRow): string[] {
  return r.dest ? ["-d", ...svcArgs(r), "-r", r.destText] : ["-D", ...svcArgs(r)];
}

/** `-Z` for one service, or for everything. */
export function zeroArgv(r: ServiceRow | null): string[] {
  return r ? ["-Z", ...svcArgs(r)] : ["-Z"];
}

/** How a command line is shown in the status line. */
export const shownCommand = (argv: readonly string[]) =>
  `ipvsadm ${argv.map((a) => (a === "" || /\s/.test(a) ? JSON.stringify(a) : a)).join(" ")}`;
