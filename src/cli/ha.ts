/**
 * `uvs ha [--json]`: the daemon's VRRP instances — state, priority, the master's address, since
 * when, and the last transitions. keepalived users read the same from `keepalived --dump` /
 * SIGUSR1's /tmp/keepalived.data; here it comes from the snapshot's `vrrp` field.
 */
import { connectControl } from "../control/client.ts";
import type { VrrpInstanceView } from "../ha/runtime/view.ts";

export const HA_USAGE = "usage: uvs ha [--json]\n";

const pad2 = (n: number) => String(n).padStart(2, "0");
function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** The table `uvs ha` prints (pure, for tests). */
export function formatHaTable(instances: readonly VrrpInstanceView[], transitionsShown = 3): string {
  if (!instances.length) return "no VRRP instances (the rules file has no vrrp_instance)\n";
  const head = ["INSTANCE", "STATE", "PRIO", "VRID", "INTERFACE", "MASTER", "SINCE", "VIPS"];
  const rows = instances.map((i) => [
    i.name,
    i.state.toUpperCase(),
    i.priority === i.base_priority ? String(i.priority) : `${i.priority} (${i.base_priority})`,
    String(i.vrid),
    i.interface + (i.mode === "unicast" ? ` unicast→${i.peers.join(",")}` : ""),
    i.master ? `${i.master}${i.master_priority !== null ? ` (${i.master_priority})` : ""}` : "-",
    clock(i.since),
    i.vips.join(" "),
  ]);
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: string[]) =>
    cells.map((c, k) => (k === cells.length - 1 ? c : c.padEnd(widths[k]))).join("  ");
  const out = [line(head)];
  instances.forEach((inst, k) => {
    out.push(line(rows[k]));
    if (inst.error) out.push(`  error: ${inst.error}`);
    if (inst.faults.length) out.push(`  faults: ${inst.faults.join(", ")}`);
    const drops = Object.entries(inst.drops);
    if (drops.length) out.push(`  dropped adverts: ${drops.map(([r, n]) => `${r} ${n}`).join(", ")}`);
    for (const t of inst.transitions.slice(-transitionsShown))
      out.push(
        `  ${clock(t.time)} ${t.from} -> ${t.to} prio ${t.priority} master ${t.master ?? "-"}: ${t.reason}`,
      );
  });
  return `${out.map((l) => l.trimEnd()).join("\n")}\n`;
}

export async function runHaCli(args: string[], control: string): Promise<number> {
  const json = args.includes("--json");
  const bad = args.find((a) => a !== "--json");
  if (bad !== undefined) {
    process.stderr.write(`uvs ha: unexpected argument ${JSON.stringify(bad)}\n${HA_USAGE}`);
    return 2;
  }
  try {
    const c = await connectControl(control);
    const snap = JSON.parse(await c.call("snapshot", { connections: false })) as {
      vrrp?: { instances: VrrpInstanceView[] };
    };
    c.close();
    const list = snap.vrrp?.instances ?? [];
    process.stdout.write(json ? `${JSON.stringify(list, null, 2)}\n` : formatHaTable(list));
    return 0;
  } catch (e) {
    process.stderr.write(`uvs ha: ${(e as Error).message}\n`);
    return 1;
  }
}
