/** Shared pieces of the engine tests: ops for a service, a recording TxQueue, checksum checks. */

import type { InterfaceInfo } from "../../src/dataplane/packet/engine/interfaces.ts";
import type { TxQueue } from "../../src/dataplane/packet/engine/process.ts";
import type { DirectorOp } from "../../src/director/api.ts";
import { parseIp } from "../../src/model/addr.ts";
import type { ForwardMethod } from "../../src/model/dest.ts";
import { destConfig, svcConfig } from "../helpers/director.ts";
import { mac, refChecksum } from "./pkt.ts";

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
