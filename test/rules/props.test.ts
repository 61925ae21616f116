/**
 * Properties: random and mutated rules files give diagnostics, never an exception; a file that
 * parses without errors applies to an empty director without a kernel error; and after random
 * changes through the Director, write-back's text re-parses to exactly the live state.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import type { DirectorOp } from "../../src/director/api.ts";
import type { Director } from "../../src/director/director.ts";
import { ipv4FromU32 } from "../../src/model/addr.ts";
import type { ServiceId } from "../../src/model/service.ts";
import { planReload } from "../../src/rules/plan.ts";
import { writeBack } from "../../src/rules/write-back.ts";
import { directorFrom, errors, lines, parse } from "./helpers.ts";

const ROOT = join(import.meta.dir, "../..");
const FIXTURES = join(import.meta.dir, "fixtures");
const BASES = [
  readFileSync(join(ROOT, "rules/example-keepalived.conf"), "utf8"),
  readFileSync(join(ROOT, "rules/example-ipvsadm.conf"), "utf8"),
  ...readdirSync(FIXTURES).map((f) => readFileSync(join(FIXTURES, f), "utf8")),
];

const WORDS = [
  ...'{ } { } \n \n # ! \\ " virtual_server real_server virtual_server_group group fwmark lvs_sched lb_algo'.split(
    " ",
  ),
  ..."lvs_method lb_kind NAT DR TUN type gue port gre csum protocol TCP UDP SCTP weight persistence_timeout".split(
    " ",
  ),
  ..."persistence_granularity 255.255.255.0 64 ops sh-port mh-port proxy_listen proxy_protocol v1 v2 include".split(
    " ",
  ),
  ..."192.0.2.1 10.0.0.1 2001:db8::1 0 80 65536 -1 rr sh mh dh wlc TCP_CHECK HTTP_GET url path / -A -a -t -u".split(
    " ",
  ),
  ..."-f -r -m -g -i -w -s -p -M -b 192.0.2.1:80 10.0.0.1:80 uthreshold lthreshold 5 ip_family inet6 $X @a".split(
    " ",
  ),
];

/** A base file with a few random edits: words inserted, ranges deleted, lines duplicated. */
const mutated = fc
  .tuple(
    fc.constantFrom(...BASES),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.oneof(fc.constantFrom(...WORDS), fc.string({ maxLength: 4 })),
        fc.nat(12),
        fc.boolean(),
      ),
      { maxLength: 6 },
    ),
  )
  .map(([base, edits]) => {
    let t = base;
    for (const [at, word, del, dup] of edits) {
      const i = t.length ? at % t.length : 0;
      if (dup) t = t.slice(0, i) + t.slice(Math.max(0, i - del), i) + t.slice(i);
      else t = `${t.slice(0, i)} ${word} ${t.slice(i + (del % 3))}`;
    }
    return t;
  });

/** Apply the ops of a clean config to an empty director; kernel errors fail the property. */
function appliesCleanly(text: string): void {
  const r = parse(text);
  if (!r.config) {
    expect(errors(r.diagnostics).length).toBeGreaterThan(0);
    for (const d of r.diagnostics) expect(d.pos.line).toBeGreaterThan(0);
    return;
  }
  directorFrom(r.config);
}

describe("the parser never throws", () => {
  test("random text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        parse(s);
        parse(`-A ${s}`);
      }),
      { numRuns: 400 },
    );
  });

  test("random word soup", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...WORDS), { maxLength: 60 }), (ws) =>
        appliesCleanly(ws.join(" ")),
      ),
      { numRuns: 400 },
    );
  });

  test("mutated example files: errors with positions, or a config the director accepts", () => {
    fc.assert(fc.property(mutated, appliesCleanly), { numRuns: 600 });
  });
});

/** Random changes through the Director API, as the CLI would make them. */
function randomOps(d: Director, picks: number[]): DirectorOp[] {
  const ops: DirectorOp[] = [];
  let k = 0;
  const pick = (n: number) => (n > 0 ? picks[k++ % picks.length] % n : 0);
  for (let step = 0; step < picks.length / 3; step++) {
    const svcs = [...d.services.values()];
    const svc = svcs[pick(svcs.length)];
    const kind = pick(7);
    let op: DirectorOp | null = null;
    if (kind === 0 || !svc) {
      const id: ServiceId =
        pick(2) === 0
          ? {
              kind: "addr",
              af: "inet",
              protocol: pick(2) ? "tcp" : "udp",
              addr: ipv4FromU32(0xc0000264 + pick(5)),
              port: 1 + pick(3),
            }
          : { kind: "fwmark", af: "inet", fwmark: 100 + pick(3) };
      const sched = ["rr", "sh", "mh", "wlc"][pick(4)];
      op = {
        op: "add-service",
        service: id,
        config: { scheduler: sched, flags: 0, timeout: 0, netmask: 0xffffffff, peName: null },
      };
    } else if (kind === 1) op = { op: "delete-service", service: svc.id };
    else if (kind === 2 || svc.dests.length === 0) {
      const port = svc.id.kind === "addr" ? svc.id.port : 0;
      const forward = svc.id.kind === "fwmark" && pick(2) ? "route" : "masq";
      op = {
        op: "add-server",
        service: svc.id,
        dest: {
          af: "inet",
          addr: ipv4FromU32(0x0a000001 + pick(6)),
          port: forward === "route" ? 0 : port || 8000 + pick(2),
          forward,
          weight: pick(5),
          uThreshold: 0,
          lThreshold: 0,
          tunnelType: "ipip",
          tunnelPort: 0,
          tunnelCsum: "nocsum",
        },
      };
    } else {
      const dest = svc.dests[pick(svc.dests.length)];
      if (kind === 3) op = { op: "delete-server", service: svc.id, addr: dest.addr, port: dest.port };
      else if (kind === 4) {
        const u = pick(3) * 10;
        op = {
          op: "edit-server",
          service: svc.id,
          dest: { ...dest, weight: pick(9), uThreshold: u, lThreshold: u ? pick(u) : 0 },
        };
      } else {
        const persistent = pick(2);
        const sched = ["rr", "sh", "mh", "wrr"][pick(4)];
        const flags = persistent | (sched === "sh" || sched === "mh" ? pick(2) * 0x10 : 0);
        const config = {
          scheduler: sched,
          flags,
          timeout: persistent ? 60 + pick(3) : 0,
          netmask: persistent && pick(2) ? 0xffffff00 : 0xffffffff,
          peName: null,
        };
        op = { op: "edit-service", service: svc.id, config };
      }
    }
    if (op && d.apply(op).ok) ops.push(op);
  }
  return ops;
}

describe("write-back re-parses to the live state", () => {
  test("random changes on the example files, both dialects", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...BASES),
        fc.array(fc.nat(1000), { minLength: 3, maxLength: 30 }),
        (base, picks) => {
          const c = parse(base).config!;
          const d = directorFrom(c);
          randomOps(d, picks);
          const out = writeBack(base, c, d);
          const again = parse(out);
          expect(lines(errors(again.diagnostics))).toEqual([]);
          expect(planReload(d, again.config!).lines).toEqual(["= no changes"]);
          // And once more from the new text: nothing left to change, byte for byte.
          expect(writeBack(out, again.config!, d)).toBe(out);
        },
      ),
      { numRuns: 400 },
    );
  });
});
