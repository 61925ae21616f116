/** Shared pieces of the engine tests: ops for a service, a recording TxQueue, checksum checks. */

import { COUNTER_NAMES } from "../../src/dataplane/packet/engine/counters.ts";
import type { InterfaceInfo } from "../../src/dataplane/packet/engine/interfaces.ts";
import { Neighbours } from "../../src/dataplane/packet/engine/neighbours.ts";
import { PacketEngine, type TxQueue } from "../../src/dataplane/packet/engine/process.ts";
import type { VipMacMode } from "../../src/dataplane/packet/engine/vip-macs.ts";
import type { DirectorOp } from "../../src/director/api.ts";
import { parseIp } from "../../src/model/addr.ts";
import type { ForwardMethod } from "../../src/model/dest.ts";
import { applyMessage, type BackupStats } from "../../src/sync/backup.ts";
import { decodeMessage } from "../../src/sync/codec.ts";
import { SyncMaster } from "../../src/sync/master.ts";
import { destConfig, svcConfig } from "../helpers/director.ts";
import { mac, pkt, refChecksum } from "./pkt.ts";

export function serviceOps(
  vip: string,
  port: number,
  dests: { addr: string; port: number; forward: ForwardMethod }[],
  protocol: "tcp" | "udp" = "tcp",
  scheduler = "rr",
): DirectorOp[] {
  const service = { kind: "addr" as const, af: "inet" as const, protocol, addr: parseIp(vip)!, port };
  return [
    { op: "add-service", service, config: svcConfig({ scheduler }) },
    ...dests.map(
      (d): DirectorOp => ({
        op: "add-server",
        service,
        dest: destConfig(d.addr, d.port, { forward: d.forward }),
      }),
    ),
  ];
}

export function iface(name: string, macText: string, cidr: string, mtu = 1500, gateway = 0): InterfaceInfo {
  const [a, p] = cidr.split("/");
  return {
    name,
    mac: Uint8Array.from(mac(macText)),
    mtu,
    v4: [{ addr: parseIp(a)!.words[0], prefix: Number(p) }],
    gateway,
  };
}

export interface Sent {
  ifIdx: number;
  frame: Uint8Array;
}

export class RecordingTx implements TxQueue {
  readonly sent: Sent[] = [];
  private readonly buf = new Uint8Array(4096);
  slot(): Uint8Array {
    return this.buf;
  }
  commit(ifIdx: number, len: number): void {
    this.sent.push({ ifIdx, frame: this.buf.slice(0, len) });
  }
  forward(ifIdx: number, buf: Uint8Array, len: number): void {
    this.sent.push({ ifIdx, frame: buf.slice(0, len) });
  }
  take(): Sent[] {
    return this.sent.splice(0);
  }
}

/** IPv4 header (at 14) and TCP/UDP checksum verify with the independent reference sum. */
export function checksumsValid(f: Uint8Array): { ip: boolean; l4: boolean } {
  const ihl = (f[14] & 15) * 4;
  const ip = refChecksum(f.subarray(14, 14 + ihl)) === 0;
  const tot = (f[16] << 8) | f[17];
  const proto = f[23];
  const seg = f.subarray(14 + ihl, 14 + tot);
  const ph = [...f.subarray(26, 34), 0, proto, seg.length >> 8, seg.length & 255];
  const l4 = refChecksum([...ph, ...seg]) === 0;
  return { ip, l4 };
}

/** An engine on `interfaces` with fresh counters, a recording queue and an empty neighbour table. */
export function testEngine(
  interfaces: InterfaceInfo[],
  opts: { vipMac?: VipMacMode } = {},
): {
  e: PacketEngine;
  tx: RecordingTx;
  counters: Float64Array;
} {
  const counters = new Float64Array(COUNTER_NAMES.length);
  const tx = new RecordingTx();
  const e = new PacketEngine({ interfaces, counters, tx, neighbours: new Neighbours(), now: 1000, ...opts });
  return { e, tx, counters };
}

/** `ip` answers our ARP at `m` on link `ifIdx` (we are `ours`/`ourIp` there). */
export function arpReply(
  e: PacketEngine,
  ifIdx: number,
  ip: string,
  m: string,
  ours: string,
  ourIp: string,
): void {
  const f = pkt().eth({ dst: ours, src: m }).arp({ op: 2, sha: m, spa: ip, tha: ours, tpa: ourIp }).build();
  e.frame(ifIdx, f, f.length, 0);
}

/** Run `frames` (arriving on link 0) through `e` with a sync master; the messages it emits. */
export function syncMessages(e: PacketEngine, frames: Uint8Array[], syncid: number): Uint8Array[] {
  const messages: Uint8Array[] = [];
  const sm = new SyncMaster(e.director, {
    syncid,
    maxlen: 1472,
    send: (x) => messages.push(x),
    timers: false,
  });
  e.director.hooks.inPacket = sm.inPacket;
  for (const f of frames) e.frame(0, f, f.length, 0);
  sm.pump(true);
  return messages;
}

/** A backup applies sync messages to `e`'s table, as the worker's sync daemon does. */
/**
 * A flow through `e` with a sync master: a first SYN from port 40000 moves rr on (so the synced
 * flow's real server differs from a fresh engine's first pick), then SYN, ACK and PSH-ACK from
 * `sport` (frames from `fromClient`). The sync messages, and the flow's state and real server.
 */
export function syncedFlow(
  e: PacketEngine,
  fromClient: (flags: string, sport: number) => Uint8Array,
  sport: number,
  syncid: number,
): { messages: Uint8Array[]; state: number; rs: string } {
  const frames = [fromClient("S", 40000), ...["S", "A", "PA"].map((f) => fromClient(f, sport))];
  const messages = syncMessages(e, frames, syncid);
  const t = e.director.conns;
  const slot = [...t.slots()].find((s) => t.cport(s) === sport)!;
  return { messages, state: t.state(slot), rs: t.daddr(slot).text };
}

export function applySync(e: PacketEngine, messages: Uint8Array[], syncid: number): BackupStats {
  const stats: BackupStats = { messages: 0, conns: 0, refused: 0, skipped: 0 };
  for (const raw of messages) {
    const r = decodeMessage(raw, syncid);
    if (!r.ok) throw new Error(r.reason);
    applyMessage(e.director, r.msg, stats);
  }
  return stats;
}
