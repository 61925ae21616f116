/**
 * A fluent builder for test frames (Katran's PacketBuilder):
 * `pkt().eth().ipv4({ src, dst }).tcp({ sport, dport, flags: "S" }).payload("hi").build()`.
 * Lengths and checksums are filled by a deliberately plain reference implementation (`refChecksum`)
 * that shares no code with src/dataplane/packet, so tests compare two independent computations.
 */

/** RFC 1071, the obvious way: sum 16-bit big-endian words, fold carries, complement. */
export function refChecksum(bytes: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += bytes[i] * 256 + (i + 1 < bytes.length ? bytes[i + 1] : 0);
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return 0xffff - sum;
}

export function mac(text: string): number[] {
  return text.split(":").map((h) => Number.parseInt(h, 16));
}

export function ip4(text: string): number[] {
  return text.split(".").map(Number);
}

/** Host-order u32 of a dotted quad. */
export function ip4u(text: string): number {
  return ip4(text).reduce((a, b) => a * 256 + b, 0);
}

export function ip6(text: string): number[] {
  const [head, tail] = text.includes("::") ? text.split("::") : [text, null];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === null ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 255];
  });
}

const be16 = (n: number) => [(n >> 8) & 255, n & 255];
const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

export const MAC_ROUTER = "02:00:00:00:00:fe";
export const MAC_DIRECTOR = "02:00:00:00:00:01";
export const MAC_REAL = "02:00:00:00:00:11";

interface EthOpts {
  dst?: string;
  src?: string;
  vlan?: number;
}
interface Ipv4Opts {
  src?: string;
  dst?: string;
  ttl?: number;
  id?: number;
  tos?: number;
  df?: boolean;
  mf?: boolean;
  /** Fragment offset in 8-byte units. */
  fragOffset?: number;
  /** Option bytes (padded to a multiple of 4). */
  options?: number[];
  proto?: number;
}
interface Ipv6Opts {
  src?: string;
  dst?: string;
  hopLimit?: number;
  /** Extension headers before the L4 header: next-header numbers 0, 43, 44, 60 (8 bytes each). */
  ext?: number[];
}
interface TcpOpts {
  sport?: number;
  dport?: number;
  /** Letters of FSRPAU, or a number. */
  flags?: string | number;
  seq?: number;
  ack?: number;
  window?: number;
}
interface UdpOpts {
  sport?: number;
  dport?: number;
  /** Send a zero checksum ("none", IPv4 only). */
  noChecksum?: boolean;
}
interface IcmpOpts {
  type: number;
  code?: number;
  /** The 32-bit word after the checksum. */
  rest?: number;
}
interface ArpOpts {
  op?: number;
  sha?: string;
  spa: string;
  tha?: string;
  tpa: string;
}

type L3 = { kind: "ipv4"; o: Ipv4Opts } | { kind: "ipv6"; o: Ipv6Opts } | { kind: "arp"; o: ArpOpts };
type L4 =
  | { kind: "tcp"; o: TcpOpts }
  | { kind: "udp"; o: UdpOpts }
  | { kind: "icmp"; o: IcmpOpts }
  | { kind: "raw" };

const FLAG_BITS: Record<string, number> = { F: 1, S: 2, R: 4, P: 8, A: 16, U: 32 };

export class PacketBuilder {
  private ethO: EthOpts = {};
  private l3: L3 | null = null;
  private l4: L4 = { kind: "raw" };
  private data: number[] = [];
  private partial = false;
  private badIp = false;
  private badL4 = false;

  eth(o: EthOpts = {}): this {
    this.ethO = o;
    return this;
  }
  ipv4(o: Ipv4Opts = {}): this {
    this.l3 = { kind: "ipv4", o };
    return this;
  }
  ipv6(o: Ipv6Opts = {}): this {
    this.l3 = { kind: "ipv6", o };
    return this;
  }
  arp(o: ArpOpts): this {
    this.l3 = { kind: "arp", o };
    return this;
  }
  tcp(o: TcpOpts = {}): this {
    this.l4 = { kind: "tcp", o };
    return this;
  }
  udp(o: UdpOpts = {}): this {
    this.l4 = { kind: "udp", o };
    return this;
  }
  icmp(o: IcmpOpts): this {
    this.l4 = { kind: "icmp", o };
    return this;
  }
  /** Bytes after the L4 header (or the whole IP payload without one); strings as UTF-8. */
  payload(p: string | ArrayLike<number>): this {
    this.data = typeof p === "string" ? [...new TextEncoder().encode(p)] : Array.from(p);
    return this;
  }
  /** Leave the TCP/UDP checksum as a NIC offload would: the folded pseudo-header sum, not complemented. */
  partialChecksum(): this {
    this.partial = true;
    return this;
  }
  corruptIpChecksum(): this {
    this.badIp = true;
    return this;
  }
  corruptL4Checksum(): this {
    this.badL4 = true;
    return this;
  }

  build(): Uint8Array {
    const l3 = this.l3 ?? { kind: "ipv4", o: {} };
    const o = this.ethO;
    const type = l3.kind === "ipv4" ? 0x0800 : l3.kind === "ipv6" ? 0x86dd : 0x0806;
    const tag = o.vlan === undefined ? [] : [0x81, 0x00, ...be16(o.vlan)];
    const eth = [...mac(o.dst ?? MAC_DIRECTOR), ...mac(o.src ?? MAC_ROUTER), ...tag, ...be16(type)];
    if (l3.kind === "arp") return Uint8Array.from([...eth, ...this.arpBody(l3.o)]);
    if (l3.kind === "ipv4") return Uint8Array.from([...eth, ...this.ipv4Packet(l3.o)]);
    return Uint8Array.from([...eth, ...this.ipv6Packet(l3.o)]);
  }

  private arpBody(a: ArpOpts): number[] {
    return [
      ...[0, 1, 8, 0, 6, 4],
      ...be16(a.op ?? 1),
      ...mac(a.sha ?? MAC_ROUTER),
      ...ip4(a.spa),
      ...mac(a.tha ?? "00:00:00:00:00:00"),
      ...ip4(a.tpa),
    ];
  }

  private protoNumber(v6: boolean): number {
    const k = this.l4.kind;
    return k === "tcp" ? 6 : k === "udp" ? 17 : k === "icmp" ? (v6 ? 58 : 1) : 253;
  }

  private ipv4Packet(o: Ipv4Opts): number[] {
    const src = ip4(o.src ?? "203.0.113.7");
    const dst = ip4(o.dst ?? "192.0.2.10");
    const proto = o.proto ?? this.protoNumber(false);
    const l4 = this.l4Segment(proto, [...src, ...dst], false);
    const opts = [...(o.options ?? [])];
    while (opts.length % 4) opts.push(0);
    const frag = ((o.df ?? true) ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | (o.fragOffset ?? 0);
    const h = [
      0x40 | (5 + opts.length / 4),
      o.tos ?? 0,
      ...be16(20 + opts.length + l4.length),
      ...be16(o.id ?? 1),
      ...be16(frag),
      o.ttl ?? 64,
      proto,
      0,
      0,
      ...src,
      ...dst,
      ...opts,
    ];
    const c = refChecksum(h) ^ (this.badIp ? 0x0101 : 0);
    h[10] = c >> 8;
    h[11] = c & 255;
    return [...h, ...l4];
  }

  private ipv6Packet(o: Ipv6Opts): number[] {
    const src = ip6(o.src ?? "2001:db8:c::7");
    const dst = ip6(o.dst ?? "2001:db8::10");
    const proto = this.protoNumber(true);
    const l4 = this.l4Segment(proto, [...src, ...dst], true);
    const ext = o.ext ?? [];
    const chain = [...ext, proto];
    const extBytes = ext.flatMap((_, i) => [chain[i + 1], 0, 0, 0, 0, 0, 0, 0]);
    const first = chain[0];
    const payload = [...extBytes, ...l4];
    return [0x60, 0, 0, 0, ...be16(payload.length), first, o.hopLimit ?? 64, ...src, ...dst, ...payload];
  }

  private l4Segment(proto: number, addrs: number[], v6: boolean): number[] {
    const l4 = this.l4;
    let seg: number[];
    let csumAt = -1;
    if (l4.kind === "tcp") {
      const o = l4.o;
      const f =
        typeof o.flags === "number" ? o.flags : [...(o.flags ?? "S")].reduce((a, c) => a | FLAG_BITS[c], 0);
      seg = [
        ...be16(o.sport ?? 40000),
        ...be16(o.dport ?? 80),
        ...be32(o.seq ?? 1000),
        ...be32(o.ack ?? 0),
        0x50,
        f,
        ...be16(o.window ?? 65535),
        0,
        0,
        0,
        0,
        ...this.data,
      ];
      csumAt = 16;
    } else if (l4.kind === "udp") {
      seg = [
        ...be16(l4.o.sport ?? 5353),
        ...be16(l4.o.dport ?? 53),
        ...be16(8 + this.data.length),
        0,
        0,
        ...this.data,
      ];
      csumAt = l4.o.noChecksum ? -1 : 6;
    } else if (l4.kind === "icmp") {
      seg = [l4.o.type, l4.o.code ?? 0, 0, 0, ...be32(l4.o.rest ?? 0), ...this.data];
      const c =
        refChecksum(v6 ? [...pseudo(addrs, 58, seg.length), ...seg] : seg) ^ (this.badL4 ? 0x0101 : 0);
      seg[2] = c >> 8;
      seg[3] = c & 255;
      return seg;
    } else {
      return [...this.data];
    }
    if (csumAt < 0) return seg;
    const ph = pseudo(addrs, proto, seg.length);
    // Partial (offload) form: the complemented pseudo-header checksum = the folded pseudo sum itself.
    let c = this.partial ? 0xffff - refChecksum(ph) : refChecksum([...ph, ...seg]);
    if (!this.partial && proto === 17 && c === 0) c = 0xffff;
    c ^= this.badL4 ? 0x0101 : 0;
    seg[csumAt] = c >> 8;
    seg[csumAt + 1] = c & 255;
    return seg;
  }
}

/** Pseudo-header bytes: addresses, then zero/proto/length (IPv4, 12 bytes) or length32/zeros/next (IPv6). */
function pseudo(addrs: number[], proto: number, len: number): number[] {
  return addrs.length === 8 ? [...addrs, 0, proto, ...be16(len)] : [...addrs, ...be32(len), 0, 0, 0, proto];
}

export function pkt(): PacketBuilder {
  return new PacketBuilder();
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

export function unhex(h: string): Uint8Array {
  return Uint8Array.from(Buffer.from(h, "hex"));
}
