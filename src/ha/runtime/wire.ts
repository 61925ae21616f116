/**
 * One instance's adverts on the wire: an IPPROTO_VRRP raw socket bound to its interface, joined to
 * the multicast group (or one copy per unicast peer), IPv4 headers as keepalived builds them.
 */
import type { IpAddr } from "../../model/addr.ts";
import { RawIpSocket } from "../../sys/libc.ts";
import type { VrrpInstanceConfig } from "../vrrp-config.ts";
import { decodeIpv4, encodeIpv4, type VrrpDatagram } from "../vrrp-frame.ts";
import { encodeVrrp, IPPROTO_VRRP, passAuthData, type VrrpAdvert } from "../vrrp-packet.ts";

export interface WireCounters {
  sent: number;
  sendErrors: number;
  received: number;
  /** Datagrams that were not IPv4 VRRP at all. */
  malformed: number;
}

export class VrrpWire {
  readonly counters: WireCounters = { sent: 0, sendErrors: 0, received: 0, malformed: 0 };
  private id = 0;
  private readonly dsts: IpAddr[];
  private readonly multicast: boolean;

  private constructor(
    private readonly sock: RawIpSocket,
    private readonly c: VrrpInstanceConfig,
    readonly src: IpAddr,
  ) {
    this.multicast = c.unicastPeers.length === 0;
    this.dsts = this.multicast ? [c.mcastDstIp] : c.unicastPeers.map((p) => p.addr);
  }

  /** Open the socket on the instance's interface; throws with the call and errno that failed. */
  static open(c: VrrpInstanceConfig, ifname: string, src: IpAddr): VrrpWire {
    if (c.family !== "inet") throw new Error("VRRP over IPv6 is not supported by the uvs runtime yet");
    const unicast = c.unicastPeers.length > 0;
    const sock = RawIpSocket.open(IPPROTO_VRRP, { ifname, ttl: unicast ? c.unicastTtl : 255 });
    try {
      if (!unicast) sock.join(c.mcastDstIp.words[0]);
    } catch (e) {
      sock.close();
      throw e;
    }
    return new VrrpWire(sock, c, src);
  }

  get fd(): number {
    return this.sock.fd;
  }

  private advert(priority: number): VrrpAdvert {
    const c = this.c;
    return {
      version: c.version,
      vrid: c.vrid,
      priority,
      intervalCs: c.advertIntCs,
      family: c.family,
      addrs: c.vips.map((v) => v.addr),
      authType: c.version === 2 && c.auth ? 1 : 0,
      authData: c.version === 2 && c.auth ? passAuthData(c.auth.pass) : new Uint8Array(8),
    };
  }

  /** One advert at `priority` to the group or to every peer. */
  send(priority: number): void {
    const a = this.advert(priority);
    const ttl = this.multicast ? 255 : this.c.unicastTtl;
    for (const dst of this.dsts) {
      // keepalived: the IP id counts from 1 and skips 0
      this.id = (this.id % 0xffff) + 1;
      const msg = encodeVrrp(a, { src: this.src, dst }, this.c.v3ChecksumAsV2 ? "plain" : "pseudo");
      const dgram = encodeIpv4({ src: this.src, dst, id: this.id, ttl }, msg);
      if (this.sock.send(dgram, dst.words[0]) < 0) this.counters.sendErrors++;
      else this.counters.sent++;
    }
  }

  /** Every datagram waiting on the socket, decoded as IPv4 (not yet checked). */
  drain(max = 64): VrrpDatagram[] {
    const out: VrrpDatagram[] = [];
    for (let i = 0; i < max; i++) {
      const b = this.sock.recv();
      if (!b) break;
      const d = decodeIpv4(b);
      if (d.ok) {
        this.counters.received++;
        out.push(d.dgram);
      } else this.counters.malformed++;
    }
    return out;
  }

  close(): void {
    if (this.multicast) this.sock.leave(this.c.mcastDstIp.words[0]);
    this.sock.close();
  }
}
