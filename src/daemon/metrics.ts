/**
 * Prometheus text for the counters ipvsadm shows, named as node_exporter's ipvs collector names
 * them (so existing IPVS dashboards work), plus the daemon's own counters.
 */
import type { Snapshot } from "../model/snapshot.ts";

export interface DaemonCounters {
  reloads: number;
  reloadErrors: number;
  controlErrors: number;
  /** Failed upstream connects per real server ("addr:port"). */
  connectFailures: Map<string, number>;
}

type Labels = Record<string, string | number>;

function labels(l: Labels): string {
  const body = Object.entries(l)
    .map(([k, v]) => `${k}="${String(v).replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)
    .join(",");
  return body ? `{${body}}` : "";
}

class Family {
  private readonly lines: string[] = [];
  constructor(
    readonly name: string,
    readonly type: "counter" | "gauge",
    readonly help: string,
  ) {}
  add(l: Labels, v: bigint | number): void {
    this.lines.push(`${this.name}${labels(l)} ${v}`);
  }
  render(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n${this.lines.join("\n")}${this.lines.length ? "\n" : ""}`;
  }
}

/** node_exporter's label set for a real server of a service. */
function backendLabels(
  s: Snapshot["services"][number],
  d: Snapshot["services"][number]["destinations"][number],
): Labels {
  return {
    local_address: s.address ?? "",
    local_port: s.port ?? 0,
    local_mark: s.fwmark === null ? "" : String(s.fwmark),
    proto: (s.protocol ?? "").toUpperCase(),
    remote_address: d.address,
    remote_port: d.port,
  };
}

export function renderMetrics(snap: Snapshot, own: DaemonCounters): string {
  const total = { conns: 0n, inpkts: 0n, outpkts: 0n, inbytes: 0n, outbytes: 0n };
  const active = new Family(
    "node_ipvs_backend_connections_active",
    "gauge",
    "The current active connections by local and remote address.",
  );
  const inactive = new Family(
    "node_ipvs_backend_connections_inactive",
    "gauge",
    "The current inactive connections by local and remote address.",
  );
  const weight = new Family(
    "node_ipvs_backend_weight",
    "gauge",
    "The current backend weight by local and remote address.",
  );
  for (const s of snap.services) {
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += s.stats[k];
    for (const d of s.destinations) {
      const l = backendLabels(s, d);
      active.add(l, d.active_conns);
      inactive.add(l, d.inactive_conns);
      weight.add(l, d.weight);
    }
  }
  const totals: [string, keyof typeof total, string][] = [
    ["node_ipvs_connections_total", "conns", "The total number of connections made."],
    ["node_ipvs_incoming_packets_total", "inpkts", "The total number of incoming packets."],
    ["node_ipvs_outgoing_packets_total", "outpkts", "The total number of outgoing packets."],
    ["node_ipvs_incoming_bytes_total", "inbytes", "The total amount of incoming data."],
    ["node_ipvs_outgoing_bytes_total", "outbytes", "The total amount of outgoing data."],
  ];
  const out = totals.map(([name, k, help]) => {
    const f = new Family(name, "counter", help);
    f.add({}, total[k]);
    return f.render();
  });
  out.push(active.render(), inactive.render(), weight.render());
  const reloads = new Family("uvs_reloads_total", "counter", "Rules file reloads applied.");
  reloads.add({}, own.reloads);
  const reloadErrors = new Family(
    "uvs_reload_errors_total",
    "counter",
    "Rules file reloads refused because the file had errors.",
  );
  reloadErrors.add({}, own.reloadErrors);
  const control = new Family("uvs_control_errors_total", "counter", "Control requests that failed.");
  control.add({}, own.controlErrors);
  const failures = new Family("uvs_connect_failures_total", "counter", "Failed connects to a real server.");
  for (const [rs, n] of own.connectFailures) {
    const i = rs.lastIndexOf(":");
    failures.add({ remote_address: rs.slice(0, i).replace(/^\[|\]$/g, ""), remote_port: rs.slice(i + 1) }, n);
  }
  out.push(reloads.render(), reloadErrors.render(), control.render(), failures.render());
  return out.join("");
}

/** What the proxy plane holds now (its own gauges, beside the ipvs collector's names). */
export interface ProxyGauges {
  openConnections: number;
  relayedConnections: number;
  bufferedBytes: number;
}

/** `uvs_proxy_*` gauges of the proxy data plane. */
export function proxyMetrics(g: ProxyGauges): string {
  const gauge = (name: string, help: string, v: number) =>
    `# HELP uvs_proxy_${name} ${help}\n# TYPE uvs_proxy_${name} gauge\nuvs_proxy_${name} ${v}\n`;
  return (
    gauge("open_connections", "TCP connections the proxy plane holds open.", g.openConnections) +
    gauge("relayed_connections", "Of those, connections a relay thread carries.", g.relayedConnections) +
    gauge("buffered_bytes", "Bytes held in user space for slow peers (backpressure).", g.bufferedBytes)
  );
}
