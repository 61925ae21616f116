/** keepalived's receive checks (spec §3.4), one table row per rule: the reason a packet is dropped. */
import { describe, expect, test } from "bun:test";
import { checkDatagram, type ReceiveSettings } from "../../src/ha/vrrp-check.ts";
import { encodeVrrp, passAuthData, VRRP_MCAST4, type VrrpAdvert } from "../../src/ha/vrrp-packet.ts";
import { advertFor, ip } from "./helpers.ts";

const SRC = ip("192.0.2.1");
const VIP = ip("192.0.2.100");
const base: ReceiveSettings = {
  version: 2,
  vrid: 51,
  intervalCs: 100,
  pass: null,
  vips: [VIP],
  unicast: false,
  peers: [],
  checkUnicastSrc: false,
  skipCheckAdvAddr: false,
  vipMismatch: "drop",
};
const advert = (o: Partial<VrrpAdvert> = {}): VrrpAdvert => advertFor(VIP, { priority: 150, ...o });
function run(a: VrrpAdvert, s: Partial<ReceiveSettings> = {}, d: { ttl?: number; dst?: string } = {}) {
  const dst = d.dst ? ip(d.dst) : VRRP_MCAST4;
  const payload = encodeVrrp(a, { src: SRC, dst });
  const r = checkDatagram({ ...base, ...s }, { src: SRC, dst, ttl: d.ttl ?? 255, id: 1, payload });
  return r.ok ? "ok" : r.reason;
}

describe("receive checks", () => {
  const table: [string, () => string, string][] = [
    ["a matching advert", () => run(advert()), "ok"],
    ["TTL 64 on multicast", () => run(advert(), {}, { ttl: 64 }), "ttl"],
    ["another VRID", () => run(advert({ vrid: 52 })), "vrid"],
    ["v3 on a v2 instance", () => run(advert({ version: 3, authData: new Uint8Array(0) })), "version"],
    [
      "auth type 1 on a no-auth instance",
      () => run(advert({ authType: 1, authData: passAuthData("x") })),
      "auth-type",
    ],
    [
      "wrong PASS",
      () =>
        run(advert({ authType: 1, authData: passAuthData("secret99") }), { pass: passAuthData("secret12") }),
      "auth-pass",
    ],
    [
      "right PASS (first 8 characters)",
      () =>
        run(advert({ authType: 1, authData: passAuthData("secret12") }), {
          pass: passAuthData("secret12345"),
        }),
      "ok",
    ],
    ["v2 interval 2 s vs 1 s", () => run(advert({ intervalCs: 200 })), "interval"],
    [
      "v3 interval mismatch is only noted",
      () => run(advert({ version: 3, intervalCs: 50, authData: new Uint8Array(0) }), { version: 3 }),
      "ok",
    ],
    ["one VIP missing", () => run(advert({ addrs: [ip("192.0.2.101")] })), "vip-list"],
    ["an extra VIP", () => run(advert({ addrs: [VIP, ip("192.0.2.101")] })), "vip-list"],
    [
      "VIP mismatch with keepalived ≥ 2.3.3 rules",
      () => run(advert({ addrs: [] }), { vipMismatch: "log" }),
      "ok",
    ],
    ["unicast advert on a multicast instance", () => run(advert(), {}, { dst: "192.0.2.2" }), "mode"],
    [
      "multicast advert on a unicast instance",
      () => run(advert(), { unicast: true, peers: [{ addr: SRC, minTtl: null, maxTtl: null }] }),
      "mode",
    ],
    [
      "unicast below the peer's min_ttl",
      () =>
        run(
          advert(),
          { unicast: true, peers: [{ addr: SRC, minTtl: 250, maxTtl: null }] },
          { ttl: 200, dst: "192.0.2.2" },
        ),
      "ttl",
    ],
    [
      "check_unicast_src with an unknown source",
      () =>
        run(
          advert(),
          {
            unicast: true,
            checkUnicastSrc: true,
            peers: [{ addr: ip("192.0.2.7"), minTtl: null, maxTtl: null }],
          },
          { dst: "192.0.2.2" },
        ),
      "unicast-src",
    ],
  ];
  for (const [name, f, want] of table) test(`${name} → ${want}`, () => expect(f()).toBe(want));

  test("a bad checksum is refused by the decoder", () => {
    const payload = encodeVrrp(advert(), { src: SRC, dst: VRRP_MCAST4 });
    payload[7] ^= 1;
    const r = checkDatagram(base, { src: SRC, dst: VRRP_MCAST4, ttl: 255, id: 1, payload });
    expect(r.ok ? "ok" : r.detail).toBe("invalid VRRPv2 checksum");
  });
});
