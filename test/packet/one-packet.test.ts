/**
 * One-packet scheduling (-o, ipvsadm --ops) on the packet plane: every UDP datagram is scheduled on
 * its own and forwarded, its entry lives only for that datagram (the kernel frees it after transmit),
 * and Conns/InPkts count each one.
 */
import { expect, test } from "bun:test";
import { C } from "../../src/dataplane/packet/engine/counters.ts";
import type { DirectorOp } from "../../src/director/api.ts";
import { SVC_F_ONEPACKET } from "../../src/model/service.ts";
import { arpReply, iface, serviceOps, testEngine } from "./engine-helpers.ts";
import { mac, pkt } from "./pkt.ts";

const MAC_CLIENT = "02:00:00:00:00:c1";
const MAC_ETH0 = "02:00:00:00:00:01";
const RS = [
  ["192.0.2.11", "02:00:00:00:00:11"],
  ["192.0.2.12", "02:00:00:00:00:12"],
] as const;

function engine(flags: number) {
  const r = testEngine([iface("eth0", MAC_ETH0, "192.0.2.2/24")]);
  const ops = serviceOps(
    "192.0.2.100",
    53,
    RS.map(([addr]) => ({ addr, port: 53, forward: "route" as const })),
    "udp",
  );
  const add = ops[0] as Extract<DirectorOp, { op: "add-service" }>;
  add.config = { ...add.config, flags };
  r.e.apply(ops);
  for (const [ip, m] of RS) arpReply(r.e, 0, ip, m, MAC_ETH0, "192.0.2.2");
  r.tx.take();
  return r;
}

const query = () =>
  pkt()
    .eth({ dst: MAC_ETH0, src: MAC_CLIENT })
    .ipv4({ src: "203.0.113.2", dst: "192.0.2.100" })
    .udp({ sport: 40000, dport: 53 })
    .payload("query")
    .build();

test("-o: each datagram of one client is scheduled on its own, forwarded, and leaves no entry", () => {
  const { e, tx, counters } = engine(SVC_F_ONEPACKET);
  const to: string[] = [];
  for (let i = 0; i < 4; i++) {
    const f = query();
    e.frame(0, f, f.length, 0);
    const [o] = tx.take();
    to.push([...o.frame.subarray(0, 6)].join(","));
  }
  const m1 = mac(RS[0][1]).join(",");
  const m2 = mac(RS[1][1]).join(",");
  expect(to.sort()).toEqual([m1, m1, m2, m2].sort()); // rr over both, not one flow to one server
  expect(counters[C.forward_dr]).toBe(4);
  expect(counters[C.flows_no_dest]).toBe(0);
  expect(e.director.conns.size).toBe(0);
  const svc = [...e.director.services.values()][0];
  expect(svc.stats.conns).toBe(4);
  expect(svc.stats.inpkts).toBe(4);
});

test("without -o the same datagrams are one flow to one real server, with one entry", () => {
  const { e, tx } = engine(0);
  const to = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const f = query();
    e.frame(0, f, f.length, 0);
    to.add([...tx.take()[0].frame.subarray(0, 6)].join(","));
  }
  expect(to.size).toBe(1);
  expect(e.director.conns.size).toBe(1);
});
