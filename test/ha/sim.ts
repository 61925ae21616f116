/**
 * A deterministic two-or-more-node VRRP lab for the machine tests: an injected clock, the
 * machines' own timers, and adverts delivered at once to every other running node.
 */

import { defaultGlobals } from "../../src/ha/vrrp-globals.ts";
import {
  initialState,
  type MachineParams,
  type MachineState,
  step,
  type TimerName,
  type VrrpAction,
  type VrrpEvent,
} from "../../src/ha/vrrp-machine.ts";
import type { VrrpAdvert } from "../../src/ha/vrrp-packet.ts";
import type { IpAddr } from "../../src/model/addr.ts";
import { ip } from "./helpers.ts";

export const VIP = ip("192.0.2.100");

export function params(over: Partial<MachineParams> & { localAddr: IpAddr }): MachineParams {
  return {
    name: "VI_1",
    version: 2,
    basePriority: 100,
    advertIntCs: 100,
    initialState: "BACKUP",
    nopreempt: false,
    preemptDelayMs: 0,
    downTimerAdverts: 3,
    garp: defaultGlobals().garp,
    lowerPrioNoAdvert: false,
    higherPrioSendAdvert: false,
    inSyncGroup: false,
    ...over,
  };
}

export interface Entry {
  t: number;
  node: string;
  action: VrrpAction;
}

export class Lab {
  now = 0;
  readonly nodes = new Map<string, MachineState>();
  readonly log: Entry[] = [];
  /** `ev: null` is a crash: the node vanishes without a word (no priority-0 advert). */
  private readonly pending: { at: number; node: string; ev: VrrpEvent | null }[] = [];

  add(name: string, p: MachineParams): this {
    this.nodes.set(name, initialState(p));
    return this;
  }
  at(t: number, node: string, ev: VrrpEvent): this {
    this.pending.push({ at: t, node, ev });
    return this;
  }
  /** A crash: the node stops without a word. */
  crash(t: number, node: string): this {
    this.pending.push({ at: t, node, ev: null });
    return this;
  }

  private advertOf(s: MachineState, priority: number): VrrpAdvert {
    const p = s.params;
    return {
      version: p.version,
      vrid: 51,
      priority,
      intervalCs: p.advertIntCs,
      family: "inet",
      addrs: [VIP],
      authType: 0,
      authData: new Uint8Array(p.version === 2 ? 8 : 0),
    };
  }

  deliver(node: string, ev: VrrpEvent, depth = 0): void {
    const r = step(this.nodes.get(node)!, ev, this.now);
    this.nodes.set(node, r.state);
    for (const action of r.actions) {
      this.log.push({ t: this.now, node, action });
      if (action.type !== "send_advert" || depth > 4) continue;
      const advert = this.advertOf(r.state, action.priority);
      for (const other of this.nodes.keys())
        if (other !== node)
          this.deliver(other, { type: "advert", advert, src: r.state.params.localAddr }, depth + 1);
    }
  }

  private nextTimer(): { at: number; node: string; timer: TimerName } | null {
    let best: { at: number; node: string; timer: TimerName } | null = null;
    for (const [node, s] of this.nodes)
      for (const [timer, at] of Object.entries(s.timers) as [TimerName, number][])
        if (!best || at < best.at) best = { at, node, timer };
    return best;
  }

  run(until: number): this {
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at);
      const ext = this.pending[0];
      const tim = this.nextTimer();
      const t = Math.min(ext?.at ?? Number.POSITIVE_INFINITY, tim?.at ?? Number.POSITIVE_INFINITY);
      if (t > until) break;
      this.now = t;
      if (ext && ext.at === t) {
        this.pending.shift();
        if (ext.ev) this.deliver(ext.node, ext.ev);
        else this.nodes.delete(ext.node);
      } else if (tim) this.deliver(tim.node, { type: "timer", timer: tim.timer });
    }
    this.now = until;
    return this;
  }

  /** When `node` entered `state` (the n-th time, from 0). */
  became(node: string, state: string, nth = 0): number | undefined {
    return this.log.filter((e) => e.node === node && e.action.type === "become" && e.action.state === state)[
      nth
    ]?.t;
  }
  state(node: string): string {
    return this.nodes.get(node)!.name;
  }
  count(node: string, type: VrrpAction["type"], from = 0, to = Number.POSITIVE_INFINITY): number {
    return this.log.filter((e) => e.node === node && e.action.type === type && e.t >= from && e.t <= to)
      .length;
  }
}
