/**
 * The one bun:ffi boundary of the packet plane and VRRP: raw sockets through libc.
 *
 * - `PacketSocket`: AF_PACKET on one interface, non-blocking, batched receive (recvmmsg) with
 *   PACKET_AUXDATA (checksum status) and batched send (sendmmsg). Frames live in one preallocated
 *   buffer with a fixed `Uint8Array` view per slot, so the receive/send loop allocates nothing.
 * - `RawIpSocket`: AF_INET SOCK_RAW for one IP protocol (VRRP is 112), IP_HDRINCL on send, full IP
 *   header on receive, multicast membership, bound to a device.
 * - `pollIn`: wait for readability of several fds with a timeout (call it from a Worker: it blocks).
 *
 * Hot-path calls return numbers (a count, or -errno); `open*` throw an Error naming the call and
 * errno. ssize_t returns are declared i32 so no BigInt appears in loops. Every TypedArray whose
 * pointer is stored in a kernel-visible struct is kept referenced by the owning object.
 */
import { dlopen, FFIType, ptr, read, toArrayBuffer } from "bun:ffi";
import { errnoName } from "./errno.ts";
import {
  EAGAIN,
  EINTR,
  MSG_DONTWAIT,
  SO_LINGER,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOL_SOCKET,
} from "./stream-consts.ts";

export { errnoName } from "./errno.ts";

export const AF_INET = 2;
export const AF_PACKET = 17;
const SOCK_RAW = 3;
const ETH_P_ALL = 0x0003;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_BINDTODEVICE = 25;
const SO_RCVBUFFORCE = 33;
const SO_SNDBUFFORCE = 32;
const SOL_PACKET = 263;
const PACKET_ADD_MEMBERSHIP = 1;
const PACKET_AUXDATA = 8;
const PACKET_IGNORE_OUTGOING = 23;
const PACKET_RX_RING = 5;
const PACKET_VERSION = 10;
const PACKET_QDISC_BYPASS = 20;
const TPACKET_V2 = 1;
const PACKET_MR_MULTICAST = 0;
const PACKET_MR_PROMISC = 1;
const PACKET_DROP_MEMBERSHIP = 2;
const PACKET_MR_UNICAST = 3;
const IPPROTO_IP = 0;
const IP_TTL = 2;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const IP_DROP_MEMBERSHIP = 36;
const POLLIN = 1;
const MSG_TRUNC = 0x20;

/** sockaddr_ll.sll_pkttype values. */
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const PACKET_OUTGOING = 4;

/** tpacket_auxdata.tp_status bits. */
export const TP_STATUS_CSUMNOTREADY = 1 << 3;
export const TP_STATUS_CSUM_VALID = 1 << 7;

const lib = dlopen("libc.so.6", {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  setsockopt: {
    args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32],
    returns: FFIType.i32,
  },
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  recvfrom: {
    args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.ptr],
    returns: FFIType.i32,
  },
  sendto: {
    args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32],
    returns: FFIType.i32,
  },
  recvmmsg: {
    args: [FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.i32, FFIType.ptr],
    returns: FFIType.i32,
  },
  sendmmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  if_nametoindex: { args: [FFIType.cstring], returns: FFIType.u32 },
  mmap: {
    args: [FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i64],
    returns: FFIType.ptr,
  },
  munmap: { args: [FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
});
const c = lib.symbols;

/** The calling thread's errno (read right after a failed call). */
export function errno(): number {
  const p = c.__errno_location();
  return p ? read.i32(p, 0) : 0;
}

function fail(what: string): Error {
  const e = errno();
  const err = new Error(`${what}: ${errnoName(e)}`) as Error & { errno: number; code: string };
  err.errno = e;
  err.code = errnoName(e);
  return err;
}

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
}

/** The kernel's index of an interface; throws when there is no such interface. */
export function ifIndex(name: string): number {
  const i = c.if_nametoindex(cstr(name));
  if (!i) throw new Error(`no such network interface ${JSON.stringify(name)}`);
  return i;
}

function setInt(fd: number, level: number, opt: number, value: number, what: string): void {
  const v = new Int32Array([value]);
  if (c.setsockopt(fd, level, opt, ptr(v), 4) < 0) throw fail(`setsockopt(${what})`);
}

function bindToDevice(fd: number, ifname: string): void {
  const name = cstr(ifname);
  if (c.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length) < 0)
    throw fail(`setsockopt(SO_BINDTODEVICE ${ifname})`);
}

/** Raise a socket buffer; the FORCE variant (root) goes past rmem_max/wmem_max. */
function setBuffer(fd: number, send: boolean, bytes: number): void {
  const v = new Int32Array([bytes]);
  const force = send ? SO_SNDBUFFORCE : SO_RCVBUFFORCE;
  if (c.setsockopt(fd, SOL_SOCKET, force, ptr(v), 4) === 0) return;
  c.setsockopt(fd, SOL_SOCKET, send ? SO_SNDBUF : SO_RCVBUF, ptr(v), 4);
}

export function closeFd(fd: number): void {
  if (fd >= 0) c.close(fd);
}

// struct sizes (x86_64 / aarch64 Linux, LP64)
const MSGHDR = 56;
const MMSGHDR = 64;
const IOVEC = 16;
const SOCKADDR_LL = 20;
const NAME_STRIDE = 24;
const CONTROL = 64;

/** A batch of message headers over fixed slots of one buffer (recvmmsg/sendmmsg). */
class MsgBatch {
  readonly data: Uint8Array;
  readonly slots: Uint8Array[] = [];
  readonly hdrs: Uint8Array;
  readonly hv: DataView;
  readonly names: Uint8Array;
  readonly control: Uint8Array;
  readonly controlView: DataView;
  private readonly iov: Uint8Array;
  private readonly iov32: Uint32Array;
  readonly hdrPtr: number;
  /** Address of slot 0 (slot i is at base + i * slotSize). */
  readonly base: number;

  constructor(
    readonly count: number,
    readonly slotSize: number,
    withNames: boolean,
    withControl: boolean,
  ) {
    this.data = new Uint8Array(count * slotSize);
    for (let i = 0; i < count; i++) this.slots.push(this.data.subarray(i * slotSize, (i + 1) * slotSize));
    this.hdrs = new Uint8Array(count * MMSGHDR);
    this.hv = new DataView(this.hdrs.buffer);
    this.iov = new Uint8Array(count * IOVEC);
    this.iov32 = new Uint32Array(this.iov.buffer);
    this.names = new Uint8Array(count * NAME_STRIDE);
    this.control = new Uint8Array(count * CONTROL);
    this.controlView = new DataView(this.control.buffer);
    const iv = new DataView(this.iov.buffer);
    const base = ptr(this.data);
    this.base = base;
    const iovBase = ptr(this.iov);
    const nameBase = ptr(this.names);
    const ctlBase = ptr(this.control);
    for (let i = 0; i < count; i++) {
      iv.setBigUint64(i * IOVEC, BigInt(base + i * slotSize), true);
      iv.setBigUint64(i * IOVEC + 8, BigInt(slotSize), true);
      const h = i * MMSGHDR;
      this.hv.setBigUint64(h, withNames ? BigInt(nameBase + i * NAME_STRIDE) : 0n, true);
      this.hv.setUint32(h + 8, withNames ? SOCKADDR_LL : 0, true);
      this.hv.setBigUint64(h + 16, BigInt(iovBase + i * IOVEC), true);
      this.hv.setBigUint64(h + 24, 1n, true);
      this.hv.setBigUint64(h + 32, withControl ? BigInt(ctlBase + i * CONTROL) : 0n, true);
      this.hv.setBigUint64(h + 40, withControl ? BigInt(CONTROL) : 0n, true);
    }
    this.hdrPtr = ptr(this.hdrs);
  }

  /** Set the length of slot i's iovec (send side). */
  setLen(i: number, len: number): void {
    // The upper 32 bits of iov_len stay 0: frames are far below 4 GiB.
    this.iov32[(i * IOVEC + 8) >> 2] = len;
  }

  /**
   * Point entry i at `len` bytes at address `addr` (send side: a frame in another batch's slot,
   * sent without a copy; the caller keeps that memory unchanged until the send). Little-endian.
   */
  setIov(i: number, addr: number, len: number): void {
    const w = (i * IOVEC) >> 2;
    this.iov32[w] = addr >>> 0;
    this.iov32[w + 1] = Math.floor(addr / 4294967296);
    this.iov32[w + 2] = len;
  }
}

export interface PacketSocketOptions {
  /** Frames per recvmmsg/sendmmsg call (default 64). */
  batch?: number;
  /** Bytes per frame slot (default 2048; jumbo frames need more). */
  frameSize?: number;
  /** Receive the interface's traffic for other MACs too (default false). */
  promisc?: boolean;
  /** Kernel buffer sizes in bytes (default: the kernel's). */
  rcvbuf?: number;
  sndbuf?: number;
}

/**
 * AF_PACKET on one interface, every EtherType, our own transmissions not looped back. Receive
 * with `recv()` (slots `rx.slots[0..n)`), read per frame `len(i)`, `pkttype(i)`, `status(i)`;
 * send by filling `tx.slots[i]` and calling `send(n, lens)` or `sendOne(frame, len)`.
 */
export class PacketSocket {
  readonly rx: MsgBatch;
  readonly tx: MsgBatch;
  private closed = false;

  private constructor(
    readonly fd: number,
    readonly ifname: string,
    readonly ifindex: number,
    batch: number,
    frameSize: number,
  ) {
    this.rx = new MsgBatch(batch, frameSize, true, true);
    this.tx = new MsgBatch(batch, frameSize, false, false);
  }

  static open(ifname: string, o: PacketSocketOptions = {}): PacketSocket {
    const ifindex = ifIndex(ifname);
    const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) throw fail(`socket(AF_PACKET) on ${ifname}`);
    try {
      const sll = new Uint8Array(SOCKADDR_LL);
      const v = new DataView(sll.buffer);
      v.setUint16(0, AF_PACKET, true);
      v.setUint16(2, ETH_P_ALL, false);
      v.setInt32(4, ifindex, true);
      if (c.bind(fd, ptr(sll), SOCKADDR_LL) < 0) throw fail(`bind(AF_PACKET ${ifname})`);
      setInt(fd, SOL_PACKET, PACKET_AUXDATA, 1, "PACKET_AUXDATA");
      // Older kernels lack it; recv() also drops PACKET_OUTGOING frames itself.
      const ign = new Int32Array([1]);
      c.setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, ptr(ign), 4);
      if (o.promisc) addPacketMembership(fd, ifindex, PACKET_MR_PROMISC, null);
      if (o.rcvbuf) setBuffer(fd, false, o.rcvbuf);
      if (o.sndbuf) setBuffer(fd, true, o.sndbuf);
      return new PacketSocket(fd, ifname, ifindex, o.batch ?? 64, o.frameSize ?? 2048);
    } catch (e) {
      c.close(fd);
      throw e;
    }
  }

  /**
   * AF_PACKET for sending only: bound to the interface with protocol 0, so the kernel hands it
   * no frames (`open` gets a copy of every frame on the link). For occasional frames such as
   * gratuitous ARP; send with `sendOne`.
   */
  static openSendOnly(ifname: string): PacketSocket {
    const ifindex = ifIndex(ifname);
    const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw fail(`socket(AF_PACKET) on ${ifname}`);
    try {
      const sll = new Uint8Array(SOCKADDR_LL);
      const v = new DataView(sll.buffer);
      v.setUint16(0, AF_PACKET, true);
      v.setInt32(4, ifindex, true);
      if (c.bind(fd, ptr(sll), SOCKADDR_LL) < 0) throw fail(`bind(AF_PACKET ${ifname})`);
      return new PacketSocket(fd, ifname, ifindex, 1, 128);
    } catch (e) {
      c.close(fd);
      throw e;
    }
  }

  /** Receive multicast frames for this MAC (a NIC filters them otherwise; veth does not). */
  addMulticast(mac: Uint8Array): void {
    addPacketMembership(this.fd, this.ifindex, PACKET_MR_MULTICAST, mac);
  }

  /**
   * Receive unicast frames for this MAC too (PACKET_MR_UNICAST: the device's unicast filter;
   * a device without one goes promiscuous). Held while the socket is open. Throws with errno.
   */
  addUnicast(mac: Uint8Array): void {
    addPacketMembership(this.fd, this.ifindex, PACKET_MR_UNICAST, mac);
  }

  /** Undo one `addUnicast(mac)`; false when the kernel refused (not added). */
  dropUnicast(mac: Uint8Array): boolean {
    return packetMembership(this.fd, this.ifindex, PACKET_DROP_MEMBERSHIP, PACKET_MR_UNICAST, mac) === 0;
  }

  /** Receive every frame of the link (promiscuous while the socket is open). Throws with errno. */
  addPromisc(): void {
    addPacketMembership(this.fd, this.ifindex, PACKET_MR_PROMISC, null);
  }

  /** Up to `batch` frames without blocking: the count, 0 when none, -errno on error. */
  recv(): number {
    const rx = this.rx;
    const hv = rx.hv;
    for (let i = 0; i < rx.count; i++) {
      hv.setUint32(i * MMSGHDR + 8, SOCKADDR_LL, true);
      hv.setUint32(i * MMSGHDR + 40, CONTROL, true);
    }
    const n = c.recvmmsg(this.fd, rx.hdrPtr, rx.count, MSG_DONTWAIT, null);
    if (n < 0) {
      const e = errno();
      return e === EAGAIN || e === EINTR ? 0 : -e;
    }
    return n;
  }

  /** Bytes of frame i of the last recv() (capped at the slot size; see `truncated`). */
  len(i: number): number {
    return Math.min(this.rx.hv.getUint32(i * MMSGHDR + MSGHDR, true), this.rx.slotSize);
  }

  truncated(i: number): boolean {
    return (this.rx.hv.getInt32(i * MMSGHDR + 48, true) & MSG_TRUNC) !== 0;
  }

  /** sll_pkttype of frame i: PACKET_HOST, _BROADCAST, _MULTICAST, _OTHERHOST, _OUTGOING. */
  pkttype(i: number): number {
    return this.rx.names[i * NAME_STRIDE + 10];
  }

  /** tp_status of frame i from PACKET_AUXDATA (0 when the kernel sent none). */
  status(i: number): number {
    const cv = this.rx.controlView;
    const o = i * CONTROL;
    // msg_controllen (size_t): the low 32 bits hold it, read without a BigInt.
    const clen = this.rx.hv.getUint32(i * MMSGHDR + 40, true);
    if (clen < 20) return 0;
    if (cv.getInt32(o + 8, true) !== SOL_PACKET || cv.getInt32(o + 12, true) !== PACKET_AUXDATA) return 0;
    return cv.getUint32(o + 16, true);
  }

  /** Send tx.slots[0..n) with the given lengths; returns how many went (or -errno). */
  send(n: number, lens: ArrayLike<number>): number {
    for (let i = 0; i < n; i++) this.tx.setLen(i, lens[i]);
    let sent = 0;
    while (sent < n) {
      const r = c.sendmmsg(this.fd, this.tx.hdrPtr + sent * MMSGHDR, n - sent, 0);
      if (r < 0) {
        const e = errno();
        if (e === EINTR) continue;
        return sent > 0 ? sent : -e;
      }
      if (r === 0) break;
      sent += r;
    }
    return sent;
  }

  /** Send one frame from any buffer (slow path: ARP, ICMP errors). Bytes sent or -errno. */
  sendOne(frame: Uint8Array, len = frame.length): number {
    const r = c.sendto(this.fd, ptr(frame), len, 0, null, 0);
    return r < 0 ? -errno() : r;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    c.close(this.fd);
  }
}

function addPacketMembership(fd: number, ifindex: number, type: number, mac: Uint8Array | null): void {
  if (packetMembership(fd, ifindex, PACKET_ADD_MEMBERSHIP, type, mac) < 0)
    throw fail("setsockopt(PACKET_ADD_MEMBERSHIP)");
}

/** struct packet_mreq for `op` (PACKET_ADD_/DROP_MEMBERSHIP); setsockopt's result. */
function packetMembership(
  fd: number,
  ifindex: number,
  op: number,
  type: number,
  mac: Uint8Array | null,
): number {
  const mr = new Uint8Array(16);
  const v = new DataView(mr.buffer);
  v.setInt32(0, ifindex, true);
  v.setUint16(4, type, true);
  if (mac) {
    v.setUint16(6, mac.length, true);
    mr.set(mac.subarray(0, 8), 8);
  }
  return c.setsockopt(fd, SOL_PACKET, op, ptr(mr), 16);
}

function htons(x: number): number {
  return ((x & 0xff) << 8) | ((x >> 8) & 0xff);
}

/** struct ip_mreqn: group, local address (0 = any), interface index. */
function mreqn(group: number, ifindex: number): Uint8Array {
  const m = new Uint8Array(12);
  const v = new DataView(m.buffer);
  v.setUint32(0, group >>> 0, false);
  v.setInt32(8, ifindex, true);
  return m;
}

export interface RawIpOptions {
  /** Bind to this interface (SO_BINDTODEVICE) and send multicast out of it. */
  ifname: string;
  /** TTL for unicast and multicast sends (IP_HDRINCL frames carry their own; this is for safety). */
  ttl?: number;
}

/**
 * AF_INET raw socket for one IP protocol. Send takes a whole IPv4 datagram (IP_HDRINCL);
 * receive returns the whole datagram including its header (TTL visible, as VRRP needs).
 */
export class RawIpSocket {
  private readonly rbuf = new Uint8Array(65536);
  private readonly from = new Uint8Array(16);
  private readonly fromLen = new Uint32Array(1);
  private readonly to = new Uint8Array(16);
  private readonly toView = new DataView(this.to.buffer);
  private closed = false;

  private constructor(
    readonly fd: number,
    readonly ifname: string,
    readonly ifindex: number,
  ) {
    new DataView(this.to.buffer).setUint16(0, AF_INET, true);
  }

  static open(proto: number, o: RawIpOptions): RawIpSocket {
    const ifindex = ifIndex(o.ifname);
    const fd = c.socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (fd < 0) throw fail(`socket(AF_INET, SOCK_RAW, ${proto})`);
    try {
      bindToDevice(fd, o.ifname);
      setInt(fd, IPPROTO_IP, IP_HDRINCL, 1, "IP_HDRINCL");
      setInt(fd, IPPROTO_IP, IP_TTL, o.ttl ?? 255, "IP_TTL");
      setInt(fd, IPPROTO_IP, IP_MULTICAST_TTL, o.ttl ?? 255, "IP_MULTICAST_TTL");
      setInt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP");
      const m = mreqn(0, ifindex);
      if (c.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, ptr(m), 12) < 0)
        throw fail("setsockopt(IP_MULTICAST_IF)");
      return new RawIpSocket(fd, o.ifname, ifindex);
    } catch (e) {
      c.close(fd);
      throw e;
    }
  }

  /** Join an IPv4 multicast group (host-order u32) on this socket's interface. */
  join(group: number): void {
    const m = mreqn(group, this.ifindex);
    if (c.setsockopt(this.fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, ptr(m), 12) < 0)
      throw fail("setsockopt(IP_ADD_MEMBERSHIP)");
  }

  leave(group: number): void {
    const m = mreqn(group, this.ifindex);
    c.setsockopt(this.fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, ptr(m), 12);
  }

  /** One datagram without blocking: a copy of it, or null when none (or an error: see errno()). */
  recv(): Uint8Array | null {
    this.fromLen[0] = 16;
    const n = c.recvfrom(
      this.fd,
      ptr(this.rbuf),
      this.rbuf.length,
      MSG_DONTWAIT,
      ptr(this.from),
      ptr(this.fromLen),
    );
    if (n <= 0) return null;
    return this.rbuf.slice(0, n);
  }

  /** Send a whole IPv4 datagram to `daddr` (host-order u32). Bytes sent or -errno. */
  send(datagram: Uint8Array, daddr: number): number {
    this.toView.setUint32(4, daddr >>> 0, false);
    const r = c.sendto(this.fd, ptr(datagram), datagram.length, 0, ptr(this.to), 16);
    return r < 0 ? -errno() : r;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    c.close(this.fd);
  }
}

/**
 * Wait until one of `fds` is readable or `timeoutMs` passes (blocks the thread: Workers only,
 * or timeout 0). Fills `ready[i]` with 1 for readable fds; returns how many are ready, 0 on
 * timeout, -errno on error (EINTR reads as 0).
 */
export class Poller {
  private readonly pfd: Uint8Array;
  private readonly view: DataView;
  readonly ready: Uint8Array;

  constructor(readonly fds: readonly number[]) {
    this.pfd = new Uint8Array(8 * fds.length);
    this.view = new DataView(this.pfd.buffer);
    this.ready = new Uint8Array(fds.length);
    fds.forEach((fd, i) => {
      this.view.setInt32(i * 8, fd, true);
      this.view.setInt16(i * 8 + 4, POLLIN, true);
    });
  }

  wait(timeoutMs: number): number {
    const n = c.poll(ptr(this.pfd), this.fds.length, timeoutMs);
    if (n < 0) {
      const e = errno();
      return e === EINTR ? 0 : -e;
    }
    for (let i = 0; i < this.fds.length; i++)
      this.ready[i] = this.view.getInt16(i * 8 + 6, true) !== 0 ? 1 : 0;
    return n;
  }
}

/** tpacket2_hdr.tp_status bits of an rx ring frame. */
export const TP_STATUS_KERNEL = 0;
export const TP_STATUS_USER = 1;
export const TP_STATUS_COPY = 2;
const PROT_RW = 3;
const MAP_SHARED = 1;
/** struct tpacket2_hdr (32 bytes), then struct sockaddr_ll (TPACKET_ALIGN(32) = 32). */
const T2_LEN = 4;
const T2_SNAPLEN = 8;
const T2_MAC = 12;
const T2_PKTTYPE = 32 + 10;

export interface RxRingOptions {
  /** Frames in the ring (default 2048; rounded to whole blocks). */
  frames?: number;
  /** Bytes per frame slot, header included (default 2048: 1966 bytes of frame after the header). */
  frameSize?: number;
}

/**
 * PACKET_RX_RING (TPACKET_V2) on a PacketSocket: the kernel copies each frame into the next slot
 * of a ring shared with us (mmap) and flips the slot's tp_status to USER; we read frames in place
 * and hand slots back (status KERNEL). No receive syscall, no socket queue. Per-frame status, so
 * no block-retire latency (TPACKET_V3 holds frames until a block fills or its timer runs).
 * A frame stays valid, and may be sent from (`addr`), until `release` hands its slot back.
 */
export class RxRing {
  private readonly status: Int32Array;
  private readonly words: Uint32Array;
  private readonly bytes: Uint8Array;
  /** Per slot: a view of its frame data, made once per mac offset. */
  private readonly views: (Uint8Array | null)[];
  private readonly viewOff: Uint16Array;
  private head = 0;
  /** Slots handed to us and not yet released, from `tail` (mod count). */
  private held = 0;
  private tail = 0;
  private closed = false;

  private constructor(
    private readonly base: number,
    private readonly size: number,
    readonly count: number,
    readonly frameSize: number,
  ) {
    const ab = toArrayBuffer(base, 0, size);
    this.status = new Int32Array(ab);
    this.words = new Uint32Array(ab);
    this.bytes = new Uint8Array(ab);
    this.views = new Array(count).fill(null);
    this.viewOff = new Uint16Array(count);
  }

  /** Switch `sock` to TPACKET_V2 and map its rx ring. Throws naming the call and errno. */
  static attach(sock: PacketSocket, o: RxRingOptions = {}): RxRing {
    const frameSize = o.frameSize ?? 2048;
    const block = Math.max(4096, frameSize * 16);
    const perBlock = block / frameSize;
    const blocks = Math.max(1, Math.ceil((o.frames ?? 2048) / perBlock));
    setInt(sock.fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2, "PACKET_VERSION");
    const req = new Uint32Array([block, blocks, frameSize, blocks * perBlock]);
    if (c.setsockopt(sock.fd, SOL_PACKET, PACKET_RX_RING, ptr(req), 16) < 0)
      throw fail("setsockopt(PACKET_RX_RING)");
    const size = block * blocks;
    const base = c.mmap(null, size, PROT_RW, MAP_SHARED, sock.fd, 0) as number | null;
    if (!base || base > 2 ** 52) throw fail("mmap(PACKET_RX_RING)");
    return new RxRing(base, size, blocks * perBlock, frameSize);
  }

  /** The slot of the next frame the kernel has handed us, or -1 (none, or every slot held). */
  next(): number {
    if (this.held === this.count) return -1;
    const i = this.head;
    if ((Atomics.load(this.status, (i * this.frameSize) >> 2) & TP_STATUS_USER) === 0) return -1;
    this.head = i + 1 === this.count ? 0 : i + 1;
    this.held++;
    return i;
  }

  /** Frame bytes of slot i (a view starting at the Ethernet header). */
  frame(i: number): Uint8Array {
    const off = this.words[((i * this.frameSize) >> 2) + (T2_MAC >> 2)] & 0xffff;
    const v = this.views[i];
    if (v && this.viewOff[i] === off) return v;
    const start = i * this.frameSize + off;
    const w = this.bytes.subarray(start, i * this.frameSize + this.frameSize);
    this.views[i] = w;
    this.viewOff[i] = off;
    return w;
  }

  /** Address of slot i's frame (to send it without a copy). */
  addr(i: number): number {
    return (
      this.base + i * this.frameSize + (this.words[((i * this.frameSize) >> 2) + (T2_MAC >> 2)] & 0xffff)
    );
  }

  /** Captured length of frame i (what the slot holds). */
  len(i: number): number {
    return this.words[(i * this.frameSize + T2_SNAPLEN) >> 2];
  }

  /** Frame i was longer than its slot (TP_STATUS_COPY, or wire length above the captured). */
  truncated(i: number): boolean {
    const w = (i * this.frameSize) >> 2;
    return (
      (this.status[w] & TP_STATUS_COPY) !== 0 ||
      this.words[w + (T2_LEN >> 2)] > this.words[w + (T2_SNAPLEN >> 2)]
    );
  }

  /** tp_status of frame i (TP_STATUS_CSUMNOTREADY, TP_STATUS_CSUM_VALID …). */
  statusOf(i: number): number {
    return this.status[(i * this.frameSize) >> 2];
  }

  /** sll_pkttype of frame i. */
  pkttype(i: number): number {
    return this.bytes[i * this.frameSize + T2_PKTTYPE];
  }

  /** Hand every held slot back to the kernel (after the frames in them were sent or dropped). */
  release(): void {
    while (this.held > 0) {
      Atomics.store(this.status, (this.tail * this.frameSize) >> 2, TP_STATUS_KERNEL);
      this.tail = this.tail + 1 === this.count ? 0 : this.tail + 1;
      this.held--;
    }
  }

  /** Unmap (the socket's close tears the ring down in the kernel). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    c.munmap(this.base, this.size);
  }
}

/** PACKET_QDISC_BYPASS: this socket's sends skip the device's qdisc (false when refused). */
export function bypassQdisc(sock: PacketSocket): boolean {
  const v = new Int32Array([1]);
  return c.setsockopt(sock.fd, SOL_PACKET, PACKET_QDISC_BYPASS, ptr(v), 4) === 0;
}

// ---- Stream sockets and epoll for the proxy plane's epoll engine (src/dataplane/proxy/epoll) ----
// Its own dlopen block so additions elsewhere in this file do not collide with it. Every call
// returns its result, or -errno on failure; none throws, none blocks (the sockets are non-blocking;
// epollWait is called with timeout 0 on the main thread, or from a Worker).

const tcpLib = dlopen("libc.so.6", {
  listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  accept4: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  getsockopt: {
    args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr],
    returns: FFIType.i32,
  },
  shutdown: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  epoll_create1: { args: [FFIType.i32], returns: FFIType.i32 },
  epoll_ctl: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  epoll_wait: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  eventfd: { args: [FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
});
const t = tcpLib.symbols;
/** An address from `ptr()` (a TypedArray's storage, held by the caller for the call). */
type Pointer = import("bun:ffi").Pointer;

/** `r < 0 ? -errno : r`, for the calls below. */
function orErrno(r: number): number {
  return r < 0 ? -errno() : r;
}

// Over explicit ArrayBuffers: JSC may move a small typed array's storage, and ptr() with it.
const optVal = new Int32Array(new ArrayBuffer(8));
const optLen = new Uint32Array(new ArrayBuffer(4));
const optValPtr = ptr(optVal);
const optLenPtr = ptr(optLen);
const cred = new Int32Array(new ArrayBuffer(12)); // struct ucred { pid, uid, gid }
const credPtr = ptr(cred);
const SO_PEERCRED = 17;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
/** An eventfd's 8-byte counter, read and written through it. */
const efdVal = new BigUint64Array(new ArrayBuffer(8));
const efdValPtr = ptr(efdVal);

/** Raw libc calls for non-blocking TCP sockets and one epoll set; results are counts or -errno. */
export const sockSys = {
  socket: (af: number, type: number, proto: number): number => orErrno(c.socket(af, type, proto)),
  bind: (fd: number, addr: Pointer, len: number): number => orErrno(c.bind(fd, addr, len)),
  listen: (fd: number, backlog: number): number => orErrno(t.listen(fd, backlog)),
  /** accept4 into `addr` (its capacity in `*lenPtr`). */
  accept4: (fd: number, addr: Pointer, lenPtr: Pointer, flags: number): number =>
    orErrno(t.accept4(fd, addr, lenPtr, flags)),
  connect: (fd: number, addr: Pointer, len: number): number => orErrno(t.connect(fd, addr, len)),
  /** recv(2) into memory at `p`. */
  recv: (fd: number, p: Pointer, len: number): number => orErrno(c.recvfrom(fd, p, len, 0, null, null)),
  /** send(2) from memory at `p` with `flags` (MSG_NOSIGNAL: a reset peer is EPIPE, not SIGPIPE). */
  send: (fd: number, p: Pointer, len: number, flags: number): number =>
    orErrno(c.sendto(fd, p, len, flags, null, 0)),
  shutdown: (fd: number, how: number): number => orErrno(t.shutdown(fd, how)),
  close: (fd: number): number => orErrno(c.close(fd)),
  /** Close with SO_LINGER {1, 0}: the peer gets a reset, not a FIN, and no TIME_WAIT stays. */
  resetClose: (fd: number): number => {
    optVal[0] = 1;
    optVal[1] = 0;
    c.setsockopt(fd, SOL_SOCKET, SO_LINGER, optValPtr, 8);
    return orErrno(c.close(fd));
  },
  /** setsockopt with one int value. */
  setInt: (fd: number, level: number, opt: number, value: number): number => {
    optVal[0] = value;
    return orErrno(c.setsockopt(fd, level, opt, optValPtr, 4));
  },
  /** getsockopt of one int (SO_ERROR): the value, or -errno when the call itself fails. */
  getInt: (fd: number, level: number, opt: number): number => {
    optLen[0] = 4;
    const r = t.getsockopt(fd, level, opt, optValPtr, optLenPtr);
    return r < 0 ? -errno() : optVal[0];
  },
  /** The uid of a Unix socket's peer (SO_PEERCRED), or -errno. */
  peerUid: (fd: number): number => {
    optLen[0] = 12;
    const r = t.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, credPtr, optLenPtr);
    return r < 0 ? -errno() : cred[1] >>> 0;
  },
  epollCreate: (): number => orErrno(t.epoll_create1(SOCK_CLOEXEC)),
  epollCtl: (epfd: number, op: number, fd: number, ev: Pointer): number =>
    orErrno(t.epoll_ctl(epfd, op, fd, ev)),
  epollWait: (epfd: number, events: Pointer, max: number, timeoutMs: number): number =>
    orErrno(t.epoll_wait(epfd, events, max, timeoutMs)),
  /** A non-blocking eventfd (a wake-up between threads that epoll can watch). */
  eventfd: (): number => orErrno(t.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
  /** Add one to an eventfd's counter: its reader wakes. */
  eventSignal: (fd: number): number => {
    efdVal[0] = 1n;
    return orErrno(Number(t.write(fd, efdValPtr, 8)));
  },
  /** Reset an eventfd's counter (after a wake-up); -EAGAIN when it was zero. */
  eventClear: (fd: number): number => orErrno(Number(t.read(fd, efdValPtr, 8))),
};
