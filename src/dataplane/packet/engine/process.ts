/**
 * Per-frame processing against a Director, as the kernel's IPVS does it: classify, schedule new
 * flows through the core, walk TCP states with the kernel's tables, count packets and bytes, and
 * forward by the connection's method (DR, TUN, NAT both ways), ICMP errors following their flow.
 * Frames go out through a TxQueue; there is no socket here, so tests drive it with built frames.
 */

import { Dir, IPPROTO_TCP, Tcp, tcpNextState } from "../../../conntrack/states.ts";
import {
  CONN_F_DROUTE,
  CONN_F_FWD_MASK,
  CONN_F_MASQ,
  CONN_F_NOOUTPUT,
  CONN_F_TEMPLATE,
  CONN_F_TUNNEL,
} from "../../../conntrack/table.ts";
import type { DirectorOp, OpResult } from "../../../director/api.ts";
import { expireEntry, setState } from "../../../director/conn-ops.ts";
import { Director } from "../../../director/director.ts";
import { accountSlot, endFlowPacket, openFlow } from "../../../director/flows.ts";
import { directorToSnapshot } from "../../../director/snapshot-io.ts";
import { ipv4FromU32 } from "../../../model/addr.ts";
import type { Service } from "../../../model/service.ts";
import type { Snapshot } from "../../../model/snapshot.ts";
import { buildArpReply, buildGratuitousArp } from "../arp.ts";
import { csumReplace16, rd16, rd32, wr16 } from "../checksum.ts";
import { type ClassifyContext, classify, DIR_IN, Verdict } from "../classify.ts";
import { ETH_ALEN, ETH_P_ARP, ETH_P_IP, setMacs } from "../ethernet.ts";
import { FrameView, IPPROTO_UDP } from "../frame.ts";
import { buildFragNeeded } from "../icmp.ts";
import { Reason } from "../reasons.ts";
import {
  completeL4Checksum,
  encapIpip,
  encapIpipFragments,
  natDstV4,
  natIcmpInV4,
  natIcmpOutV4,
  natSrcV4,
  rewriteDr,
  TUN_FRAG_NEEDED,
  TUN_TOO_BIG,
} from "../rewrite.ts";
import { tcpEvent } from "../tcp.ts";
import { C } from "./counters.ts";
import { type InterfaceInfo, nextHop, onLinkInterface, sourceFor } from "./interfaces.ts";
import { buildArpRequest, Neighbours } from "./neighbours.ts";
import { OutIndex } from "./out-index.ts";
import { type VipMacMode, VipMacs } from "./vip-macs.ts";

/** tpacket_auxdata status bit: the L4 checksum is partial (CHECKSUM_PARTIAL). */
export const CSUM_NOT_READY = 1 << 3;

/**
 * Where frames leave: a buffer per interface to build the next frame in, then commit its length;
 * or `forward` the received frame as it is now (the queue may refer to `buf` instead of copying
 * it, until its next flush: the worker sends straight from the rx slot).
 */
export interface TxQueue {
  slot(ifIdx: number): Uint8Array;
  commit(ifIdx: number, len: number): void;
  forward(ifIdx: number, buf: Uint8Array, len: number): void;
}

export interface EngineOptions {
  interfaces: InterfaceInfo[];
  counters: Float64Array;
  tx: TxQueue;
  neighbours?: Neighbours;
  /** Start of the director's clock (ms). */
  now?: number;
  /** VIPs at virtual MACs (default) or at the interface's own (vip-macs.ts). */
  vipMac?: VipMacMode;
}

const NO_IF = 255;

/** Service index key: protocol bit, VIP, port (fits a double exactly). */
function svcKey(proto: number, vip: number, port: number): number {
  return (proto === IPPROTO_UDP ? 2 ** 48 : 0) + vip * 65536 + port;
}

const reusable = (state: number): boolean => state === Tcp.TIME_WAIT || state === Tcp.CLOSE;

function isEthIpv4Arp(buf: Uint8Array, off: number, len: number): boolean {
  return off + 28 <= len && rd16(buf, off) === 1 && rd16(buf, off + 2) === ETH_P_IP && buf[off + 4] === 6;
}

/** Per connection slot: what forwarding needs without touching the table's objects. */
class SlotCache {
  serial = new Uint32Array(0);
  rip = new Uint32Array(0);
  rport = new Uint16Array(0);
  vip = new Uint32Array(0);
  vport = new Uint16Array(0);
  cip = new Uint32Array(0);
  method = new Uint8Array(0);
  /** Interface toward the real server, and toward the client (where its first frame came from). */
  rsIf = new Uint8Array(0);
  /** 1 when the real server is on the link of rsIf (else rsIf leads to its gateway). */
  onLink = new Uint8Array(0);
  cliIf = new Uint8Array(0);
  cliMac = new Uint8Array(0);

  ensure(slot: number): void {
    if (slot < this.serial.length) return;
    const n = Math.max(slot + 1, this.serial.length * 2, 1024);
    const g = <T extends Uint8Array | Uint16Array | Uint32Array>(a: T, make: (k: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.serial = g(this.serial, (k) => new Uint32Array(k));
    this.rip = g(this.rip, (k) => new Uint32Array(k));
    this.rport = g(this.rport, (k) => new Uint16Array(k));
    this.vip = g(this.vip, (k) => new Uint32Array(k));
    this.vport = g(this.vport, (k) => new Uint16Array(k));
    this.cip = g(this.cip, (k) => new Uint32Array(k));
    this.method = g(this.method, (k) => new Uint8Array(k));
    this.rsIf = g(this.rsIf, (k) => new Uint8Array(k));
    this.onLink = g(this.onLink, (k) => new Uint8Array(k));
    this.cliIf = g(this.cliIf, (k) => new Uint8Array(k));
    const mac = new Uint8Array(n * ETH_ALEN);
    mac.set(this.cliMac);
    this.cliMac = mac;
  }
}

export class PacketEngine {
  readonly director: Director;
  readonly neighbours: Neighbours;
  readonly outIndex = new OutIndex();
  /** The MACs VIPs live at; `macsVersion` changes whenever the accepted set may have. */
  readonly vipMacs: VipMacs;
  macsVersion = 0;
  private readonly ifs: InterfaceInfo[];
  private readonly cnt: Float64Array;
  private readonly tx: TxQueue;
  private readonly v = new FrameView();
  private readonly cache = new SlotCache();
  private services = new Map<number, Service>();
  private vips = new Set<number>();
  /** VIPs we answer ARP for; null = every service VIP. */
  private arpFor: Set<number> | null = null;
  private now = 0;
  private ipId = 1;
  /** Slot found by the last DIR_IN / DIR_OUT lookup of classify. */
  private hit = -1;
  private readonly scratch: Uint8Array[] = [];
  private readonly scratchLens: number[] = [];
  private readonly ctx: ClassifyContext;

  constructor(o: EngineOptions) {
    this.ifs = o.interfaces;
    this.cnt = o.counters;
    this.tx = o.tx;
    this.neighbours = o.neighbours ?? new Neighbours();
    this.now = o.now ?? 0;
    this.vipMacs = new VipMacs(o.interfaces, o.vipMac ?? "virtual");
    this.director = new Director({}, this.now);
    this.director.hooks.expired = (slot) => this.outIndex.remove(slot);
    this.director.hooks.synced = (slot) => this.synced(slot);
    this.ctx = {
      isVipV4: (a) => this.vips.has(a),
      lookup: (v, dir) => this.lookup(v, dir),
    };
  }

  // --- configuration ---------------------------------------------------------------------------

  /** Apply Director ops (the same sequence the daemon applies to its own table). */
  apply(ops: readonly DirectorOp[]): OpResult[] {
    const before = new Set(this.vips);
    const results = ops.map((op) => this.director.apply(op));
    this.reindex();
    this.answeredChanged();
    const added = [...this.vips].filter((a) => !before.has(a) && this.answersArp(a));
    if (added.length) this.announce(added);
    return results;
  }

  /** Answer ARP only for these VIPs (VRRP backup: none), or for every service VIP. */
  setArpFor(vips: readonly number[] | "all"): void {
    this.arpFor = vips === "all" ? null : new Set(vips);
    this.answeredChanged();
  }

  /**
   * VIP → VRID of the vrrp_instance listing it: those VIPs live at the virtual router MAC. VIPs
   * answered whose MAC changed are announced again at the new one.
   */
  setVrids(vrids: ReadonlyMap<number, number>): void {
    const changed = this.vipMacs.setVrids(vrids).filter((a) => this.answersArp(a));
    this.answeredChanged();
    if (changed.length) this.announce(changed);
  }

  /** Frames for other hosts are ours when addressed to the MAC of a VIP we answer for. */
  acceptsOtherHost(ifIdx: number, buf: Uint8Array): boolean {
    return this.vipMacs.accepts(ifIdx, buf);
  }

  private answeredChanged(): void {
    this.vipMacs.setAnswered([...this.vips].filter((a) => this.answersArp(a)));
    this.macsVersion++;
  }

  /** Gratuitous ARP for `vips` (default: every VIP we answer for) on the link each belongs to. */
  announce(vips?: readonly number[]): number {
    let sent = 0;
    for (const vip of vips ?? [...this.vips].filter((a) => this.answersArp(a))) {
      const on = onLinkInterface(this.ifs, vip);
      for (let i = 0; i < this.ifs.length; i++) {
        if (on >= 0 && i !== on) continue;
        const out = this.tx.slot(i);
        this.tx.commit(i, buildGratuitousArp(out, vip, this.vipMacs.macFor(vip, i)));
        this.cnt[C.garp_sent]++;
        this.cnt[C.frames_out]++;
        sent++;
      }
    }
    return sent;
  }

  private answersArp(vip: number): boolean {
    return this.vips.has(vip) && (this.arpFor === null || this.arpFor.has(vip));
  }

  /** Rebuild the VIP:port → service index and the neighbours to keep resolved. */
  private reindex(): void {
    const services = new Map<number, Service>();
    const vips = new Set<number>();
    const wanted = new Map<number, number>();
    for (const svc of this.director.services.values()) {
      const id = svc.id;
      if (id.kind !== "addr" || id.af !== "inet" || id.protocol === "sctp") continue;
      const vip = id.addr.words[0];
      vips.add(vip);
      services.set(svcKey(id.protocol === "udp" ? IPPROTO_UDP : IPPROTO_TCP, vip, id.port), svc);
      for (const d of svc.dests) {
        if (d.af !== "inet") continue;
        const hop = nextHop(this.ifs, d.addr.words[0]);
        if (hop) wanted.set(hop.ip, hop.ifIdx);
      }
    }
    this.services = services;
    this.vips = vips;
    this.neighbours.setWanted([...wanted].map(([ip, ifIdx]) => ({ ip, ifIdx })));
  }

  snapshot(connections: boolean): Snapshot {
    return directorToSnapshot(this.director, { connections });
  }

  // --- time ------------------------------------------------------------------------------------

  /** Move the clock: expiry, rates, ARP requests that are due. */
  tick(now: number): void {
    this.setNow(now);
    this.neighbours.due(now, (ip, ifIdx) => {
      const ifc = this.ifs[ifIdx];
      if (!ifc) return;
      this.tx.commit(ifIdx, buildArpRequest(this.tx.slot(ifIdx), ifc.mac, sourceFor(ifc, ip), ip));
      this.cnt[C.arp_requests]++;
      this.cnt[C.frames_out]++;
    });
  }

  setNow(now: number): void {
    if (now <= this.now) return;
    this.now = now;
    this.director.advance(now);
  }

  // --- frames ----------------------------------------------------------------------------------

  /** One received frame `buf[0, len)` from interface `ifIdx`; `status` is tp_status (auxdata). */
  frame(ifIdx: number, buf: Uint8Array, len: number, status: number): void {
    const cnt = this.cnt;
    cnt[C.frames_in]++;
    cnt[C.bytes_in] += len;
    const v = this.v;
    this.hit = -1;
    const verdict = classify(buf, len, v, this.ctx);
    switch (verdict) {
      case Verdict.IGNORE:
        cnt[v.reason]++;
        if (v.ethType === ETH_P_ARP && isEthIpv4Arp(buf, v.l3Off, len)) this.learnArp(ifIdx, buf, v.l3Off);
        return;
      case Verdict.ARP_VIP:
        this.learnArp(ifIdx, buf, v.l3Off);
        if (!this.answersArp(v.daddr)) {
          cnt[Reason.ARP_NOT_FOR_VIP]++;
          return;
        }
        this.tx.commit(ifIdx, buildArpReply(v, this.tx.slot(ifIdx), this.vipMacs.macFor(v.daddr, ifIdx)));
        cnt[C.arp_replies]++;
        cnt[C.frames_out]++;
        return;
      case Verdict.ICMP_ERROR:
        this.icmpError(ifIdx);
        return;
    }
    if (status & CSUM_NOT_READY) completeL4Checksum(v);
    if (verdict === Verdict.OUT_FLOW) this.natReply(this.hit);
    else if (verdict === Verdict.IN_FLOW) this.inFlow(ifIdx, this.hit);
    else this.newFlow(ifIdx);
  }

  private learnArp(ifIdx: number, buf: Uint8Array, l3Off: number): void {
    this.neighbours.learn(rd32(buf, l3Off + 14), buf, l3Off + 8, ifIdx, this.now);
  }

  private lookup(v: FrameView, dir: number): boolean {
    if (dir === DIR_IN) this.hit = this.director.conns.lookup4(v.proto, v.saddr, v.sport, v.daddr, v.dport);
    else this.hit = this.outIndex.find(v.proto, v.saddr, v.sport, v.daddr, v.dport, this.isCurrent);
    return this.hit >= 0;
  }

  private readonly isCurrent = (slot: number, serial: number): boolean =>
    this.director.conns.isLive(slot) && this.director.conns.serialOf(slot) === serial;

  private newFlow(ifIdx: number): void {
    const v = this.v;
    const svc = this.services.get(svcKey(v.proto, v.daddr, v.dport));
    const id = svc?.id;
    if (!svc || id?.kind !== "addr") {
      this.cnt[C.frames_no_service]++;
      return;
    }
    const t = openFlow(this.director, svc, {
      proto: v.proto,
      caddr: ipv4FromU32(v.saddr),
      cport: v.sport,
      vaddr: id.addr,
      vport: v.dport,
    });
    if (!t) {
      this.cnt[C.flows_no_dest]++;
      return;
    }
    this.cnt[C.flows_new]++;
    const slot = t.ref.slot;
    this.fill(slot, ifIdx);
    if (this.cache.method[slot] === CONN_F_MASQ)
      this.outIndex.add(
        slot,
        t.ref.serial,
        v.proto,
        this.cache.rip[slot],
        this.cache.rport[slot],
        v.saddr,
        v.sport,
      );
    accountSlot(this.director, slot, "in", v.ipEnd - v.l3Off);
    this.forward(slot, ifIdx);
    if (t.onePacket) endFlowPacket(this.director, t.ref);
  }

  /** Cache what forwarding needs for `slot`, and where its client frames come from. */
  private fill(slot: number, ifIdx: number): void {
    const c = this.cache;
    const t = this.director.conns;
    c.ensure(slot);
    c.serial[slot] = t.serialOf(slot);
    const rip = t.daddr(slot).words[0];
    c.rip[slot] = rip;
    c.rport[slot] = t.dport(slot);
    c.vip[slot] = t.vaddr(slot).words[0];
    c.vport[slot] = t.vport(slot);
    c.cip[slot] = t.caddr(slot).words[0];
    c.method[slot] = t.flags(slot) & CONN_F_FWD_MASK;
    const hop = onLinkInterface(this.ifs, rip);
    c.rsIf[slot] = hop >= 0 ? hop : (nextHop(this.ifs, rip)?.ifIdx ?? NO_IF);
    c.onLink[slot] = hop >= 0 ? 1 : 0;
    this.learnClient(slot, ifIdx);
  }

  /**
   * An entry the sync backup made or updated: a NAT entry goes into the reply index, so after a
   * failover the real server's replies are rewritten here too. Its client side is unknown until
   * the client's next frame: until then replies are routed to the client's address.
   */
  private synced(slot: number): void {
    const t = this.director.conns;
    const f = t.flags(slot);
    if (f & CONN_F_TEMPLATE || (f & CONN_F_FWD_MASK) !== CONN_F_MASQ || t.daddr(slot).af !== "inet") {
      this.outIndex.remove(slot);
      return;
    }
    const c = this.cache;
    // An update of an entry we already know keeps the client side its frames taught us.
    if (c.serial.length <= slot || c.serial[slot] !== t.serialOf(slot)) this.fill(slot, NO_IF);
    this.outIndex.add(
      slot,
      c.serial[slot],
      t.protoOf(slot),
      c.rip[slot],
      c.rport[slot],
      c.cip[slot],
      t.cport(slot),
    );
  }

  /** NAT replies go back out of the interface and to the MAC the client's frames came from. */
  private learnClient(slot: number, ifIdx: number): void {
    const c = this.cache;
    c.cliIf[slot] = ifIdx;
    if (ifIdx === NO_IF) return;
    const buf = this.v.buf;
    for (let i = 0; i < ETH_ALEN; i++) c.cliMac[slot * ETH_ALEN + i] = buf[ETH_ALEN + i];
  }

  private inFlow(ifIdx: number, slot: number): void {
    const v = this.v;
    const d = this.director;
    const t = d.conns;
    if (v.proto === IPPROTO_TCP) {
      // conn_reuse_mode 1 (is_new_conn_expected): a SYN for an entry in TIME_WAIT or CLOSE starts a
      // new connection, unless a template controls the entry (persistence keeps it) or it controls
      // others. FIN_WAIT of DR/TUN entries (mode bit 2) is not: the SYN reopens the entry.
      if (v.tcpFlags & 0x02 && reusable(t.state(slot)) && t.control(slot) < 0 && t.nControl(slot) === 0) {
        expireEntry(d, slot);
        this.newFlow(ifIdx);
        return;
      }
      // set_tcp_state: DR/TUN entries (NOOUTPUT) use the input-only table.
      const dir = t.flags(slot) & CONN_F_NOOUTPUT ? Dir.INPUT_ONLY : Dir.INPUT;
      const next = tcpNextState(dir, tcpEvent(v), t.state(slot));
      if (next !== t.state(slot)) setState(d, slot, next);
    }
    if (this.cache.serial.length <= slot || this.cache.serial[slot] !== t.serialOf(slot))
      this.fill(slot, ifIdx);
    else if (this.cache.cliIf[slot] === NO_IF) this.learnClient(slot, ifIdx);
    accountSlot(d, slot, "in", v.ipEnd - v.l3Off);
    this.forward(slot, ifIdx);
  }

  /** Send the client → VIP packet in `v` on to the real server of `slot`. */
  private forward(slot: number, ifIn: number): void {
    const c = this.cache;
    const v = this.v;
    const method = c.method[slot];
    const rsIf = c.rsIf[slot];
    const rip = c.rip[slot];
    if (rsIf === NO_IF || (method !== CONN_F_MASQ && method !== CONN_F_DROUTE && method !== CONN_F_TUNNEL)) {
      this.cnt[C.no_route]++;
      return;
    }
    const ifc = this.ifs[rsIf];
    const onLink = c.onLink[slot] === 1;
    if (method === CONN_F_DROUTE && !onLink) {
      this.cnt[C.no_route]++; // DR needs the real server on a link of ours (as the kernel's)
      return;
    }
    const mac = this.neighbours.lookup(onLink ? rip : ifc.gateway, rsIf, this.now);
    if (!mac) {
      this.cnt[C.neighbour_unresolved]++;
      return;
    }
    if (method === CONN_F_DROUTE) {
      // From the VIP's MAC: switches learn it at our port and never flood frames to it.
      rewriteDr(v, mac, this.vipMacs.macFor(c.vip[slot], rsIf));
      this.cnt[C.forward_dr]++;
      this.send(rsIf);
    } else if (method === CONN_F_MASQ) {
      natDstV4(v, rip, c.rport[slot]);
      setMacs(v.buf, mac, ifc.mac);
      this.cnt[C.forward_nat_in]++;
      this.send(rsIf);
    } else {
      this.tunnel(ifIn, rsIf, mac, rip, c.vip[slot]);
    }
  }

  private tunnel(ifIn: number, rsIf: number, mac: Uint8Array, rip: number, vip: number): void {
    const v = this.v;
    const ifc = this.ifs[rsIf];
    const srcMac = this.vipMacs.macFor(vip, rsIf);
    const p = { dstMac: mac, srcMac, saddr: sourceFor(ifc, rip), daddr: rip, mtu: ifc.mtu, id: 0 };
    p.id = this.ipId = (this.ipId + 1) & 0xffff;
    const n = encapIpip(v, this.tx.slot(rsIf), p);
    if (n > 0) {
      this.tx.commit(rsIf, n);
      this.cnt[C.frames_out]++;
      this.cnt[C.bytes_out] += n;
      this.cnt[C.forward_tun]++;
    } else if (n === TUN_FRAG_NEEDED) {
      // RFC 1191: tell the client the path MTU through the tunnel (from the VIP, as IPVS does).
      const out = this.tx.slot(ifIn);
      const n = buildFragNeeded(v, out, ifc.mtu - 20);
      out.set(this.vipMacs.macFor(vip, ifIn), ETH_ALEN); // from the VIP, so from its MAC
      this.tx.commit(ifIn, n);
      this.cnt[C.tun_frag_needed]++;
      this.cnt[C.frames_out]++;
    } else if (n === TUN_TOO_BIG) {
      while (this.scratch.length < 2 + (v.len >> 9)) this.scratch.push(new Uint8Array(ifc.mtu + 64));
      const k = encapIpipFragments(v, this.scratch, this.scratchLens, p);
      for (let i = 0; i < k; i++) this.push(rsIf, this.scratch[i], this.scratchLens[i]);
      if (k > 0) this.cnt[C.tun_fragmented]++;
      else this.cnt[C.no_route]++;
    } else {
      this.cnt[C.no_route]++;
    }
  }

  /** A NAT real server's reply: source back to VIP:vport, out toward the client. */
  private natReply(slot: number): void {
    const v = this.v;
    const d = this.director;
    const t = d.conns;
    if (v.proto === IPPROTO_TCP) {
      const next = tcpNextState(Dir.OUTPUT, tcpEvent(v), t.state(slot));
      if (next !== t.state(slot)) setState(d, slot, next);
    }
    const c = this.cache;
    accountSlot(d, slot, "out", v.ipEnd - v.l3Off);
    natSrcV4(v, c.vip[slot], c.vport[slot]);
    // The kernel routes replies (FORWARD hook): TTL goes down by one, header checksum follows.
    const ttlOff = v.l3Off + 8;
    const old = rd16(v.buf, ttlOff);
    v.buf[ttlOff]--;
    wr16(v.buf, v.l3Off + 10, csumReplace16(rd16(v.buf, v.l3Off + 10), old, rd16(v.buf, ttlOff)));
    const out = this.toClient(slot);
    if (out < 0) return;
    this.cnt[C.forward_nat_out]++;
    this.send(out);
  }

  /**
   * An ICMP error about a packet of a flow (ip_vs_in_icmp / ip_vs_out_icmp): toward a VIP it quotes
   * VIP → client and goes to the real server; from a NAT real server it quotes client → rip and goes
   * back to the client with the VIP put back.
   */
  private icmpError(ifIdx: number): void {
    const v = this.v;
    const t = this.director.conns;
    if (this.vips.has(v.daddr)) {
      const slot = t.lookup4(v.innerProto, v.innerDaddr, v.innerDport, v.innerSaddr, v.innerSport);
      if (slot < 0) {
        this.cnt[C.icmp_no_flow]++;
        return;
      }
      if (this.cache.serial.length <= slot || this.cache.serial[slot] !== t.serialOf(slot))
        this.fill(slot, ifIdx);
      const c = this.cache;
      this.cnt[C.icmp_forwarded]++;
      if (c.method[slot] === CONN_F_MASQ) {
        // natIcmpInV4 rewrites the destination too; forward() must then not NAT it again.
        natIcmpInV4(v, c.rip[slot], c.rport[slot]);
        const rsIf = c.rsIf[slot];
        const mac = rsIf === NO_IF ? null : this.neighbours.lookup(c.rip[slot], rsIf, this.now);
        if (!mac) {
          this.cnt[C.neighbour_unresolved]++;
          return;
        }
        setMacs(v.buf, mac, this.ifs[rsIf].mac);
        this.send(rsIf);
        return;
      }
      this.forward(slot, ifIdx);
      return;
    }
    const slot = this.outIndex.find(
      v.innerProto,
      v.innerDaddr,
      v.innerDport,
      v.innerSaddr,
      v.innerSport,
      this.isCurrent,
    );
    if (slot < 0) {
      this.cnt[C.icmp_no_flow]++;
      return;
    }
    const c = this.cache;
    natIcmpOutV4(v, c.vip[slot], c.vport[slot]);
    const out = this.toClient(slot);
    if (out < 0) return;
    this.cnt[C.icmp_forwarded]++;
    this.send(out);
  }

  /**
   * MACs of the frame toward the client of `slot`: to the MAC its frames came from, from the
   * VIP's MAC on that interface. Returns the interface, or -1 (counted) when there is no way yet.
   */
  private toClient(slot: number): number {
    const c = this.cache;
    const out = c.cliIf[slot];
    if (out === NO_IF) return this.routeToClient(slot);
    const buf = this.v.buf;
    const m = c.cliMac;
    const src = this.vipMacs.macFor(c.vip[slot], out);
    for (let i = 0, o = slot * ETH_ALEN; i < ETH_ALEN; i++, o++) {
      buf[i] = m[o];
      buf[ETH_ALEN + i] = src[i];
    }
    return out;
  }

  /** No client frame seen yet (a synced entry): route to the client's address, ARP for the hop. */
  private routeToClient(slot: number): number {
    const hop = nextHop(this.ifs, this.cache.cip[slot]);
    if (!hop) {
      this.cnt[C.no_route]++;
      return -1;
    }
    const mac = this.neighbours.lookup(hop.ip, hop.ifIdx, this.now);
    if (!mac) {
      this.cnt[C.neighbour_unresolved]++;
      return -1;
    }
    setMacs(this.v.buf, mac, this.vipMacs.macFor(this.cache.vip[slot], hop.ifIdx));
    return hop.ifIdx;
  }

  /** The frame in the view, as rewritten, out of `ifIdx` (no copy where the queue can avoid it). */
  private send(ifIdx: number): void {
    const v = this.v;
    this.tx.forward(ifIdx, v.buf, v.len);
    this.cnt[C.frames_out]++;
    this.cnt[C.bytes_out] += v.len;
  }

  /** A frame we built in a scratch buffer: copied into the queue (the scratch is reused). */
  private push(ifIdx: number, buf: Uint8Array, len: number): void {
    this.tx.slot(ifIdx).set(buf.subarray(0, len));
    this.tx.commit(ifIdx, len);
    this.cnt[C.frames_out]++;
    this.cnt[C.bytes_out] += len;
  }
}
