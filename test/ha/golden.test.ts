/**
 * Golden adverts captured from a real keepalived 2.2.7 (fixtures/README.md): the decoder reads
 * them, and the encoder rebuilds every frame byte for byte from the decoded fields.
 */
import { describe, expect, test } from "bun:test";
import { checkDatagram, receiveSettings } from "../../src/ha/vrrp-check.ts";
import { vrrpConfig } from "../../src/ha/vrrp-config.ts";
import {
  decodeIpv4,
  ETH_P_ARP,
  ETH_P_IP,
  encodeEthernet,
  encodeGarp,
  encodeIpv4,
  multicastMac,
} from "../../src/ha/vrrp-frame.ts";
import { decodeVrrp, encodeVrrp } from "../../src/ha/vrrp-packet.ts";
import { Diagnostics } from "../../src/rules/model.ts";
import { parseKeepalived } from "../../src/rules/parser.ts";
import { ethType, hex, ip, readCapture } from "./helpers.ts";

const RUNS = [
  { name: "v2-mcast-p100", src: "192.0.2.2", prio: 100, version: 2, vips: 1, auth: 0 },
  { name: "v2-mcast-p150", src: "192.0.2.1", prio: 150, version: 2, vips: 1, auth: 0 },
  { name: "v2-unicast-pass", src: "192.0.2.2", prio: 100, version: 2, vips: 1, auth: 1 },
  { name: "v3-mcast-2vip", src: "192.0.2.1", prio: 150, version: 3, vips: 2, auth: 0 },
  { name: "v3-mcast-50cs-owner", src: "192.0.2.3", prio: 255, version: 3, vips: 3, auth: 0 },
] as const;

function adverts(name: string) {
  return readCapture(name).frames.filter((f) => ethType(f.bytes) === ETH_P_IP);
}

describe("keepalived 2.2.7 captures", () => {
  for (const run of RUNS) {
    test(`${run.name}: every advert decodes with the expected fields`, () => {
      const ads = adverts(run.name);
      expect(ads.length).toBeGreaterThanOrEqual(2);
      for (const f of ads) {
        const ipr = decodeIpv4(f.bytes.subarray(14));
        if (!ipr.ok) throw new Error(ipr.error);
        expect(ipr.dgram.ttl).toBe(255);
        expect(ipr.dgram.src.text).toBe(run.src);
        const d = decodeVrrp(ipr.dgram.payload, ipr.dgram);
        if (!d.ok) throw new Error(d.detail);
        expect(d.advert.version).toBe(run.version);
        expect(d.advert.addrs.length).toBe(run.vips);
        expect(d.advert.authType).toBe(run.auth);
        expect(d.checksumForm).toBe(run.version === 3 ? "pseudo" : "plain");
      }
      // the last advert is the priority-0 one sent on SIGTERM; the others carry the priority
      const prios = ads.map((f) => f.bytes[14 + 20 + 2]);
      expect(prios.at(-1)).toBe(0);
      expect(new Set(prios.slice(0, -1))).toEqual(new Set([run.prio]));
    });

    test(`${run.name}: the encoder rebuilds every frame byte for byte`, () => {
      for (const f of adverts(run.name)) {
        const ipr = decodeIpv4(f.bytes.subarray(14));
        if (!ipr.ok) throw new Error(ipr.error);
        const d = decodeVrrp(ipr.dgram.payload, ipr.dgram);
        if (!d.ok) throw new Error(d.detail);
        const msg = encodeVrrp(d.advert, ipr.dgram);
        const packet = encodeIpv4({ src: ipr.dgram.src, dst: ipr.dgram.dst, id: ipr.dgram.id }, msg);
        const frame = encodeEthernet(f.bytes.subarray(0, 6), f.bytes.subarray(6, 12), ETH_P_IP, packet);
        expect(hex(frame)).toBe(hex(f.bytes));
      }
    });
  }

  test("IP ids count from 1 per instance and the multicast MAC is 01:00:5e:00:00:12", () => {
    const ads = adverts("v2-mcast-p100");
    expect(ads.map((f) => (f.bytes[18] << 8) | f.bytes[19])).toEqual(ads.map((_, i) => i + 1));
    expect(hex(ads[0].bytes.subarray(0, 6))).toBe(hex(multicastMac(ip("224.0.0.18"))));
  });

  test("gratuitous ARPs are rebuilt byte for byte from the MAC and the VIP", () => {
    for (const run of RUNS) {
      const garps = readCapture(run.name).frames.filter(
        (f) =>
          ethType(f.bytes) === ETH_P_ARP &&
          f.bytes[21] === 1 &&
          hex(f.bytes.subarray(28, 32)) === hex(f.bytes.subarray(38, 42)),
      );
      expect(garps.length).toBeGreaterThanOrEqual(5);
      for (const g of garps) {
        const vip = ip(Array.from(g.bytes.subarray(28, 32)).join("."));
        expect(hex(encodeGarp(g.bytes.subarray(6, 12), vip))).toBe(hex(g.bytes));
      }
    }
  });

  test("the GARP timeline: the first burst follows the advert, 5 per VIP, second burst after garp_master_delay", () => {
    const { frames } = readCapture("v2-mcast-p100");
    expect(ethType(frames[0].bytes)).toBe(ETH_P_IP);
    const garpTimes = frames.filter((f) => ethType(f.bytes) === ETH_P_ARP).map((f) => f.t);
    const first = garpTimes.filter((t) => t < 0.1);
    const second = garpTimes.filter((t) => t > 1.9 && t < 2.1);
    expect(first.length).toBe(5);
    expect(second.length).toBe(5);
  });

  test("the receive checks accept every captured advert under the configuration that sent it", () => {
    for (const run of RUNS) {
      const { frames, conf } = readCapture(run.name);
      const diags = new Diagnostics();
      const cst = parseKeepalived(conf, "capture.conf", diags);
      const cfg = vrrpConfig(cst.stmts, diags);
      expect(diags.hasErrors).toBe(false);
      const settings = receiveSettings(cfg.instances[0]);
      for (const f of frames.filter((x) => ethType(x.bytes) === ETH_P_IP)) {
        const ipr = decodeIpv4(f.bytes.subarray(14));
        if (!ipr.ok) throw new Error(ipr.error);
        const r = checkDatagram(settings, ipr.dgram);
        expect(r.ok ? "ok" : `${r.reason}: ${r.detail}`).toBe("ok");
      }
    }
  });
});
