/**
 * Keeps an AF_PACKET socket's unicast MAC memberships equal to the engine's VIP MACs for that
 * interface: a NIC drops frames for MACs it does not own before any tap sees them, unless they are
 * in its unicast filter (PACKET_MR_UNICAST; veth does not filter, real NICs do). When the device
 * refuses a unicast address, the socket falls back to promiscuous mode once.
 */
import { formatMac } from "../ethernet.ts";

/** What the filter needs of a PacketSocket (tests pass a fake). */
export interface MembershipSocket {
  readonly ifname: string;
  addUnicast(mac: Uint8Array): void;
  dropUnicast(mac: Uint8Array): boolean;
  addPromisc(): void;
}

export type FilterLog = (level: "info" | "warning" | "error", msg: string) => void;

export class UnicastFilter {
  private readonly have = new Map<string, Uint8Array>();
  private promisc = false;

  constructor(
    private readonly sock: MembershipSocket,
    private readonly log: FilterLog,
  ) {}

  /** Add the MACs of `want` not yet in the filter, drop those no longer wanted. */
  sync(want: readonly Uint8Array[]): void {
    const next = new Map(want.map((m) => [formatMac(m), m] as const));
    for (const [key, mac] of this.have) {
      if (next.has(key)) continue;
      this.sock.dropUnicast(mac);
      this.have.delete(key);
    }
    for (const [key, mac] of next) {
      if (this.have.has(key)) continue;
      try {
        this.sock.addUnicast(mac);
        this.have.set(key, mac);
      } catch (e) {
        this.fallback(key, (e as Error).message);
      }
    }
  }

  /** The MACs in the filter now (formatted). */
  macs(): string[] {
    return [...this.have.keys()];
  }

  private fallback(key: string, why: string): void {
    if (this.promisc) return;
    try {
      this.sock.addPromisc();
      this.promisc = true;
      this.log("warning", `${this.sock.ifname}: unicast filter refused ${key} (${why}); promiscuous instead`);
    } catch (e) {
      this.log(
        "error",
        `${this.sock.ifname}: cannot receive frames for ${key}: unicast filter (${why}) and promiscuous mode (${(e as Error).message}) refused`,
      );
    }
  }
}
