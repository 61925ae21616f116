/**
 * vrrp_sync_group: the members change state together (spec keepalived.md §3.1; keepalived
 * vrrp_sync.c). Pure: one event for one member goes through its reducer, then the group's rule
 * drags the others with `sync` events:
 * - a member entering FAULT faults the group; the group leaves FAULT when no member has a fault
 *   of its own;
 * - a member wanting MASTER (its down timer expired) becomes master only when every member wants
 *   it or one already is; then all become MASTER;
 * - a master stepping down to BACKUP takes the other masters with it.
 */
import { type MachineState, step, type VrrpAction, type VrrpEvent } from "./vrrp-machine.ts";

export type GroupStates = Readonly<Record<string, MachineState>>;

export interface GroupStep {
  states: Record<string, MachineState>;
  /** Actions in the order they happened, each tagged with its instance. */
  actions: { instance: string; action: VrrpAction }[];
}

function apply(g: GroupStep, name: string, ev: VrrpEvent, now: number): void {
  const r = step(g.states[name], ev, now);
  g.states[name] = r.state;
  for (const action of r.actions) g.actions.push({ instance: name, action });
}

const ownFault = (s: MachineState) => s.faults.some((f) => f !== "sync");

/** The group rule after `name` moved from `prev` (see the module comment). */
function drag(g: GroupStep, members: readonly string[], name: string, prev: MachineState, now: number): void {
  const cur = g.states[name];
  const others = members.filter((m) => m !== name && g.states[m]);
  if (cur.name === "fault" && prev.name !== "fault") {
    for (const m of others) apply(g, m, { type: "sync", to: "fault" }, now);
  } else if (prev.name === "fault" && cur.name !== "fault") {
    if (others.some((m) => ownFault(g.states[m]))) apply(g, name, { type: "sync", to: "fault" }, now);
    else for (const m of others) apply(g, m, { type: "sync", to: "backup" }, now);
  } else if (cur.name === "master" && prev.name !== "master") {
    for (const m of others) apply(g, m, { type: "sync", to: "master" }, now);
  } else if (prev.name === "master" && cur.name === "backup") {
    for (const m of others)
      if (g.states[m].name === "master") apply(g, m, { type: "sync", to: "backup" }, now);
  } else if (cur.name === "backup" && cur.wantMaster) {
    const all = members.map((m) => g.states[m]).filter(Boolean);
    if (all.every((s) => s.wantMaster || s.name === "master")) {
      for (const m of members)
        if (g.states[m]?.name === "backup") apply(g, m, { type: "sync", to: "master" }, now);
    }
  }
}

/** Feed `ev` to member `name` of the group `members`, then apply the group rule. */
export function stepGroup(
  states: GroupStates,
  members: readonly string[],
  name: string,
  ev: VrrpEvent,
  now: number,
): GroupStep {
  const g: GroupStep = { states: { ...states }, actions: [] };
  const prev = states[name];
  if (!prev) return g;
  apply(g, name, ev, now);
  drag(g, members, name, prev, now);
  return g;
}
