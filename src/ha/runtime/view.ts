/** What the daemon shows of VRRP: the snapshot's `vrrp` field, `uvs ha`, the TUI's HA screen. */

export interface VrrpTransition {
  /** Epoch ms. */
  time: number;
  from: string;
  to: string;
  reason: string;
  priority: number;
  /** The master's address after the change (ours when we became master), or null. */
  master: string | null;
}

export interface VrrpInstanceView {
  name: string;
  state: string;
  vrid: number;
  version: number;
  /** Effective priority (base + tracking weights). */
  priority: number;
  base_priority: number;
  interface: string;
  /** The address our adverts come from. */
  address: string | null;
  mode: "multicast" | "unicast";
  peers: string[];
  vips: string[];
  /** The current master: our own address when master, the last accepted advert's sender when backup. */
  master: string | null;
  master_priority: number | null;
  /** Epoch ms of the last state change. */
  since: number;
  sync_group: string | null;
  faults: string[];
  adverts_sent: number;
  adverts_received: number;
  /** Refused adverts by keepalived's receive check (spec §3.4). */
  drops: Record<string, number>;
  /** Why the instance cannot run as configured (socket, address), if so. */
  error: string | null;
  /** The most recent state changes, oldest first. */
  transitions: VrrpTransition[];
}

export interface VrrpView {
  instances: VrrpInstanceView[];
}
