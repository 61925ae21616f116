/**
 * keepalived's receive checks (spec keepalived.md §3.4), applied to a received datagram before
 * anything reaches the state machine. Pure; never throws. A refused packet is only logged: it
 * changes no state and re-arms no timer (unlike keepalived's master, spec §3.5 "Quirk").
 */
import { type IpAddr, sameAddr } from "../model/addr.ts";
import type { VrrpInstanceConfig } from "./vrrp-config.ts";
import type { VrrpDatagram } from "./vrrp-frame.ts";
import { decodeVrrp, passAuthData, VRRP_TTL, type VrrpAdvert, type VrrpVersion } from "./vrrp-packet.ts";

/** What an instance checks incoming adverts against. */
export interface ReceiveSettings {
  version: VrrpVersion;
  vrid: number;
  /** The local advert interval (v2 must match it exactly). */
  intervalCs: number;
  /** null = auth type 0; else the 8 PASS bytes. */
  pass: Uint8Array | null;
  /** The VIPs carried in adverts (excluded VIPs are not). */
  vips: readonly IpAddr[];
  unicast: boolean;
  peers: readonly { addr: IpAddr; minTtl: number | null; maxTtl: number | null }[];
  checkUnicastSrc: boolean;
  skipCheckAdvAddr: boolean;
  /** keepalived ≤ 2.3.2 (Debian 12's 2.2.7) drops a VIP-list mismatch; ≥ 2.3.3 only logs it. */
  vipMismatch: "drop" | "log";
}

export type DropReason =
  | "decode"
  | "vrid"
  | "ttl"
  | "version"
  | "auth-type"
  | "auth-pass"
  | "interval"
  | "mode"
  | "vip-list"
  | "unicast-src";

export type CheckResult =
  | { ok: true; advert: VrrpAdvert; src: IpAddr; notes: string[] }
  | { ok: false; reason: DropReason; detail: string };

export function receiveSettings(c: VrrpInstanceConfig): ReceiveSettings {
  return {
    version: c.version,
    vrid: c.vrid,
    intervalCs: c.advertIntCs,
    pass: c.auth ? passAuthData(c.auth.pass) : null,
    vips: c.vips.map((v) => v.addr),
    unicast: c.unicastPeers.length > 0,
    peers: c.unicastPeers,
    checkUnicastSrc: c.checkUnicastSrc,
    skipCheckAdvAddr: c.skipCheckAdvAddr,
    vipMismatch: "drop",
  };
}

const drop = (reason: DropReason, detail: string): CheckResult => ({ ok: false, reason, detail });

function isMulticast(a: IpAddr): boolean {
  return a.af === "inet" ? a.words[0] >>> 28 === 0xe : a.words[0] >>> 24 === 0xff;
}

/** Rule 2: TTL 255 for multicast; unicast uses the peer's optional min_ttl/max_ttl. */
function ttlOk(s: ReceiveSettings, d: VrrpDatagram): boolean {
  if (!s.unicast) return d.ttl === VRRP_TTL;
  const peer = s.peers.find((p) => sameAddr(p.addr, d.src));
  if (!peer) return true;
  return (peer.minTtl === null || d.ttl >= peer.minTtl) && (peer.maxTtl === null || d.ttl <= peer.maxTtl);
}

/** Compare the 8 PASS bytes without an early exit (keepalived compares in constant time). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Rule 4 (v2 only): auth type, password and interval must all be ours. */
function v2Checks(s: ReceiveSettings, a: VrrpAdvert): CheckResult | null {
  if (a.authType !== (s.pass ? 1 : 0)) return drop("auth-type", `auth type ${a.authType}`);
  if (s.pass && !sameBytes(s.pass, a.authData)) return drop("auth-pass", "authentication password mismatch");
  if (a.intervalCs !== s.intervalCs)
    return drop(
      "interval",
      `advertisement interval mismatch: ${a.intervalCs / 100} s, ours ${s.intervalCs / 100} s`,
    );
  return null;
}

/** Rule 11: the advert must carry exactly our VIP set, in any order. */
function vipListDiff(s: ReceiveSettings, a: VrrpAdvert): string | null {
  if (a.addrs.length !== s.vips.length)
    return `received an unexpected ip number count ${a.addrs.length}, expected ${s.vips.length}`;
  const missing = s.vips.find((v) => !a.addrs.some((x) => sameAddr(x, v)));
  return missing ? `ip address ${missing.text} not present in the advert` : null;
}

/**
 * Apply §3.4 in keepalived's order to datagram `d`. `currentMaster` is the master last accepted
 * (for skip_check_adv_addr). The FAULT/INIT rule (13) belongs to the state machine.
 */
export function checkDatagram(
  s: ReceiveSettings,
  d: VrrpDatagram,
  currentMaster: IpAddr | null = null,
): CheckResult {
  const dec = decodeVrrp(d.payload, d);
  if (!dec.ok) return drop("decode", dec.detail);
  const a = dec.advert;
  if (a.vrid !== s.vrid) return drop("vrid", `VRID ${a.vrid}, ours ${s.vrid}`);
  if (!ttlOk(s, d)) return drop("ttl", `TTL ${d.ttl}`);
  if (a.version !== s.version) return drop("version", `VRRPv${a.version} packet on a v${s.version} instance`);
  const notes: string[] = [];
  if (a.version === 2) {
    const bad = v2Checks(s, a);
    if (bad) return bad;
  } else if (a.intervalCs !== s.intervalCs)
    notes.push(`advertisement interval ${a.intervalCs} cs from the master`);
  // Rule 9: a unicast instance wants unicast destinations, a multicast one multicast
  if (isMulticast(d.dst) === s.unicast)
    return drop("mode", s.unicast ? "multicast advert" : "unicast advert");
  const same = currentMaster !== null && sameAddr(currentMaster, d.src);
  const diff = s.skipCheckAdvAddr && same ? null : vipListDiff(s, a);
  if (diff && s.vipMismatch === "drop") return drop("vip-list", diff);
  if (diff) notes.push(diff);
  if (s.unicast && s.checkUnicastSrc && !s.peers.some((p) => sameAddr(p.addr, d.src)))
    return drop("unicast-src", `source ${d.src.text} is not a unicast peer`);
  return { ok: true, advert: a, src: d.src, notes };
}
