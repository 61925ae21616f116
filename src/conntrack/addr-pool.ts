import { type IpAddr, ipv4FromU32, ipv6FromWords } from "../model/addr.ts";

/**
 * Addresses of connection entries as one u32 each: an IPv4 address is its own word; an IPv6
 * address is interned and referred to by id (refcounted), so entries stay fixed-size.
 */
export class AddrPool {
  private ids = new Map<string, number>();
  private addrs: (IpAddr | undefined)[] = [];
  private refs: number[] = [];
  private free: number[] = [];

  /** Word to store for `a` (takes a reference for IPv6). */
  ref(a: IpAddr): number {
    if (a.af === "inet") return a.words[0];
    let id = this.ids.get(a.text);
    if (id === undefined) {
      id = this.free.pop() ?? this.addrs.length;
      this.ids.set(a.text, id);
      this.addrs[id] = a;
      this.refs[id] = 0;
    }
    this.refs[id]++;
    return id;
  }

  /** The word `a` would be stored as, without taking a reference (-1: unknown IPv6, cannot match). */
  peek(a: IpAddr): number {
    if (a.af === "inet") return a.words[0];
    return this.ids.get(a.text) ?? -1;
  }

  unref(word: number, v6: boolean): void {
    if (!v6) return;
    if (--this.refs[word] === 0) {
      const a = this.addrs[word]!;
      this.ids.delete(a.text);
      this.addrs[word] = undefined;
      this.free.push(word);
    }
  }

  get(word: number, v6: boolean): IpAddr {
    return v6 ? this.addrs[word]! : ipv4FromU32(word);
  }
}

export { ipv6FromWords };
