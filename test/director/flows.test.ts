import { describe, expect, test } from "bun:test";
import { IPPROTO_TCP, IPPROTO_UDP, TCP_STATE_NAMES } from "../../src/conntrack/states.ts";
import { account, type FlowRef, flowEvent, isLive, openFlow } from "../../src/director/flows.ts";
import { destConfig, directorWith, ip, svcConfig, tcpService } from "../helpers/director.ts";

const SVC = tcpService();

function setup() {
  const d = directorWith(svcConfig(), [destConfig("198.51.100.11")]);
  const svc = d.findService(SVC)!;
  const open = (cport: number, proto = IPPROTO_TCP) =>
    openFlow(d, svc, { proto, caddr: ip("203.0.113.7"), cport, vaddr: ip("192.0.2.10"), vport: 80 })!;
  const state = (ref: FlowRef) => TCP_STATE_NAMES[d.conns.state(ref.slot)];
  return { d, svc, dest: svc.dests[0], open, state };
}

describe("flows mirror socket states into IPVS states", () => {
  test("connect, established, client half-close, server close, closed → TIME_WAIT for tcpfin", () => {
    const { d, dest, open, state } = setup();
    const f = open(40001);
    expect([state(f.ref), dest.activeConns, dest.inactConns]).toEqual(["SYN_RECV", 1, 0]);
    flowEvent(d, f.ref, "established");
    expect(state(f.ref)).toBe("ESTABLISHED");
    flowEvent(d, f.ref, "client-fin");
    expect([state(f.ref), dest.activeConns, dest.inactConns]).toEqual(["CLOSE_WAIT", 0, 1]);
    flowEvent(d, f.ref, "server-fin");
    expect(state(f.ref)).toBe("TIME_WAIT");
    d.apply({ op: "set-timeouts", tcp: 0, tcpfin: 30, udp: 0 });
    flowEvent(d, f.ref, "closed");
    expect(d.conns.expires(f.ref.slot)).toBe(d.now + 30_000);
  });

  test("the server closing first gives FIN_WAIT; a reset gives CLOSE", () => {
    const { d, open, state } = setup();
    const a = open(40001);
    flowEvent(d, a.ref, "established");
    flowEvent(d, a.ref, "server-fin");
    expect(state(a.ref)).toBe("FIN_WAIT");
    const b = open(40002);
    flowEvent(d, b.ref, "established");
    flowEvent(d, b.ref, "reset");
    expect(state(b.ref)).toBe("CLOSE");
  });

  test("traffic is counted per service and real server and keeps an idle entry alive", () => {
    const { d, svc, dest, open } = setup();
    const f = open(40001);
    flowEvent(d, f.ref, "established");
    account(d, f.ref, "in", 100);
    account(d, f.ref, "out", 5000, 3);
    expect(dest.stats.read()).toMatchObject({
      conns: 1n,
      inpkts: 1n,
      inbytes: 100n,
      outpkts: 3n,
      outbytes: 5000n,
    });
    expect(svc.stats.read()).toMatchObject({ inbytes: 100n, outbytes: 5000n });
    d.advance(899_000);
    account(d, f.ref, "in", 1);
    d.advance(1_500_000);
    expect(isLive(d, f.ref)).toBe(true);
    d.advance(899_000 + 900_000);
    expect(isLive(d, f.ref)).toBe(false);
  });

  test("the expiry hook names the flow that timed out; UDP flows expire after the udp timeout", () => {
    const { d, open } = setup();
    const seen: number[] = [];
    d.hooks.expired = (slot) => seen.push(slot);
    const f = open(5353, IPPROTO_UDP);
    d.advance(299_999);
    expect(seen).toEqual([]);
    d.advance(300_000);
    expect(seen).toEqual([f.ref.slot]);
    expect(isLive(d, f.ref)).toBe(false);
  });
});
