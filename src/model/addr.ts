/**
 * IP addresses as IPVS sees them: a family, the canonical text (what inet_ntop prints) and the
 * address as host-order unsigned 32-bit words (one for IPv4, four for IPv6). The words are what the
 * kernel's hash functions and ipvsadm's sort comparator work on.
 */
export type Family = "inet" | "inet6";

export interface IpAddr {
  readonly af: Family;
  /** Canonical text: dotted quad, or glibc's inet_ntop form for IPv6. Unique per address. */
  readonly text: string;
  /** Host-order u32 words: [v4] or [w0, w1, w2, w3] (w0 = most significant). */
  readonly words: readonly number[];
}

export function ipv4FromU32(v: number): IpAddr {
  const w = v >>> 0;
  const text = `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
  return { af: "inet", text, words: [w] };
}

export function ipv6FromWords(words: readonly number[]): IpAddr {
  const w = words.map((x) => x >>> 0);
  return { af: "inet6", text: formatIpv6(w), words: w };
}

/** Strict dotted-quad IPv4 (inet_pton rules: four decimal parts 0..255, no leading zeros). */
export function parseIpv4Strict(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/**
 * IPv4 as inet_aton accepts it (ipvsadm uses it for -t/-u/-r/-M): 1 to 4 parts, each decimal,
 * octal (leading 0) or hex (0x); the last part fills the remaining bytes ("10.1" = 10.0.0.1).
 */
export function parseInetAton(text: string): number | null {
  if (text.length === 0 || text.endsWith(".")) return null;
  const parts = text.split(".");
  if (parts.length > 4) return null;
  const vals: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) n = p.length === 2 ? 0 : Number.parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = p.length === 1 ? 0 : Number.parseInt(p.slice(1), 8);
    else if (/^[1-9][0-9]*$/.test(p)) n = Number(p);
    else return null;
    if (!Number.isFinite(n) || n > 0xffffffff) return null;
    vals.push(n);
  }
  const last = vals[vals.length - 1];
  const lead = vals.slice(0, -1);
  if (lead.some((x) => x > 255)) return null;
  const lastMax = [0xffffffff, 0xffffff, 0xffff, 0xff][lead.length];
  if (last > lastMax) return null;
  let v = 0;
  for (let i = 0; i < lead.length; i++) v += lead[i] * 2 ** (24 - 8 * i);
  return (v + last) >>> 0;
}

/** IPv6 as inet_pton accepts it (with an optional trailing dotted IPv4). Returns 4 host-order words. */
export function parseIpv6(text: string): number[] | null {
  if (text.length === 0 || text.length > 45) return null;
  let head = text;
  const tailWords: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (lastColon >= 0 && text.indexOf(".", lastColon) > lastColon) {
    const v4 = parseIpv4Strict(text.slice(lastColon + 1));
    if (v4 === null) return null;
    tailWords.push(v4 >>> 16, v4 & 0xffff);
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const groups = 8 - tailWords.length;
  const dbl = head.indexOf("::");
  if (dbl !== head.lastIndexOf("::") && dbl >= 0) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  let hex: number[];
  if (dbl >= 0) {
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (!left || !right) return null;
    const fill = groups - left.length - right.length;
    if (fill < 1) return null;
    hex = [...left, ...new Array(fill).fill(0), ...right];
  } else {
    const all = parseGroups(head);
    if (!all || all.length !== groups) return null;
    hex = all;
  }
  hex = [...hex, ...tailWords];
  const words: number[] = [];
  for (let i = 0; i < 8; i += 2) words.push(((hex[i] << 16) | hex[i + 1]) >>> 0);
  return words;
}

/** glibc inet_ntop(AF_INET6): longest run (≥2) of zero groups becomes "::"; v4-mapped/compat tails dotted. */
export function formatIpv6(words: readonly number[]): string {
  const g: number[] = [];
  for (const w of words) g.push(w >>> 16, w & 0xffff);
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff))) {
      out += `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
      break;
    }
    out += g[i].toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ":";
  return out;
}

/** Parse a canonical-or-not address text of either family (strict IPv4, inet_pton IPv6). */
export function parseIp(text: string): IpAddr | null {
  const v4 = parseIpv4Strict(text);
  if (v4 !== null) return ipv4FromU32(v4);
  const v6 = parseIpv6(text);
  if (v6 !== null) return ipv6FromWords(v6);
  return null;
}

/** The kernel's address fold for hashing: the IPv4 word, or the XOR of the four IPv6 words. */
export function addrFold(a: IpAddr): number {
  const w = a.words;
  return w.length === 1 ? w[0] : (w[0] ^ w[1] ^ w[2] ^ w[3]) >>> 0;
}

export function sameAddr(a: IpAddr, b: IpAddr): boolean {
  return a.af === b.af && a.text === b.text;
}

/** `a.b.c.d:port` or `[v6]:port`, as ipvsadm prints and the simulate ops spell it. */
export function formatAddrPort(a: IpAddr, port: number): string {
  return a.af === "inet6" ? `[${a.text}]:${port}` : `${a.text}:${port}`;
}

/** Parse `a.b.c.d:port` or `[v6]:port` (strict; for JSON ops and snapshots, not ipvsadm argv). */
export function parseAddrPort(text: string): { addr: IpAddr; port: number } | null {
  let host: string;
  let portText: string;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0 || text[end + 1] !== ":") return null;
    host = text.slice(1, end);
    portText = text.slice(end + 2);
    const v6 = parseIpv6(host);
    if (!v6) return null;
    const port = parsePort(portText);
    return port === null ? null : { addr: ipv6FromWords(v6), port };
  }
  const i = text.lastIndexOf(":");
  if (i < 0) return null;
  host = text.slice(0, i);
  portText = text.slice(i + 1);
  const v4 = parseIpv4Strict(host);
  const port = parsePort(portText);
  if (v4 === null || port === null) return null;
  return { addr: ipv4FromU32(v4), port };
}

function parsePort(s: string): number | null {
  if (!/^[0-9]{1,5}$/.test(s)) return null;
  const n = Number(s);
  return n <= 65535 ? n : null;
}

/** Apply a persistence netmask: IPv4 mask as u32, IPv6 as prefix length. */
export function maskAddr(a: IpAddr, mask: number): IpAddr {
  if (a.af === "inet") return ipv4FromU32((a.words[0] & mask) >>> 0);
  const out = a.words.map((w, i) => {
    const bits = Math.max(0, Math.min(32, mask - 32 * i));
    const m = bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    return (w & m) >>> 0;
  });
  return ipv6FromWords(out);
}

/** Dotted text of a u32 netmask. */
export function formatMask(mask: number): string {
  return ipv4FromU32(mask).text;
}
