import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { directorFromSnapshot, directorToSnapshot } from "../../src/director/snapshot-io.ts";
import { parseSnapshot, SnapshotError, validateSnapshot } from "../../src/model/snapshot.ts";
import { stringifyJsonBig } from "../../src/util/json-big.ts";

const ROOT = join(import.meta.dir, "../../../shared/fixtures/ipvsadm");
const LOCAL = join(import.meta.dir, "../../fixtures/ipvsadm");
const dir = readdirSync(join(import.meta.dir, "../../fixtures")).includes("ipvsadm") ? LOCAL : ROOT;

function scenarios(): [string, string][] {
  const out: [string, string][] = [];
  for (const name of readdirSync(dir)) {
    try {
      out.push([name, readFileSync(join(dir, name, "scenario.json"), "utf8")]);
    } catch {}
  }
  for (const name of readdirSync(join(dir, "errors_tables")))
    out.push([name, readFileSync(join(dir, "errors_tables", name), "utf8")]);
  return out;
}

describe("snapshot → director → snapshot", () => {
  for (const [name, text] of scenarios()) {
    test(`${name} comes back unchanged`, () => {
      const snap = parseSnapshot(text);
      const back = directorToSnapshot(directorFromSnapshot(snap));
      expect({ ...back, schema: snap.schema }).toEqual(snap);
    });
  }

  test("64-bit counters survive text → director → text", () => {
    const text = JSON.stringify({
      services: [
        {
          af: "inet",
          protocol: "tcp",
          address: "192.0.2.1",
          port: 80,
          scheduler: "rr",
          stats: { conns: 1, inpkts: 2, outpkts: 3, inbytes: 4, outbytes: 5 },
          destinations: [],
        },
      ],
    }).replace('"inbytes":4', '"inbytes":18446744073709551615');
    const back = directorToSnapshot(directorFromSnapshot(parseSnapshot(text)));
    expect(back.services[0].stats.inbytes).toBe(18446744073709551615n);
    expect(stringifyJsonBig(back)).toContain("18446744073709551615");
  });
});

describe("bad snapshots", () => {
  const bad: [string, unknown, RegExp][] = [
    ["not an object", [], /snapshot: expected an object/],
    ["unknown schema", { schema: "x/9" }, /schema: unknown schema/],
    [
      "bad address",
      { services: [{ protocol: "tcp", address: "300.1.1.1", port: 80 }] },
      /services\[0\]\.address/,
    ],
    [
      "bad port",
      { services: [{ protocol: "tcp", address: "192.0.2.1", port: 70000 }] },
      /services\[0\]\.port: 70000 is out of range/,
    ],
    [
      "bad forward",
      { services: [{ fwmark: 1, destinations: [{ address: "192.0.2.2", forward: "x" }] }] },
      /destinations\[0\]\.forward/,
    ],
    ["negative counter", { services: [{ fwmark: 1, stats: { conns: -1 } }] }, /stats\.conns/],
    // Found by the mutation property below: String() of this object throws a TypeError.
    [
      "an object without toString where an integer belongs",
      { ipvs_info: { conn_tab_size: { toString: null } } },
      /ipvs_info\.conn_tab_size: expected an integer, got an object/,
    ],
    [
      "a string where an integer belongs",
      { timeouts: { tcp: "900" } },
      /timeouts\.tcp: expected an integer, got "900"/,
    ],
  ];
  for (const [name, raw, re] of bad) {
    test(name, () => {
      expect(() => validateSnapshot(raw)).toThrow(re);
    });
  }

  test("random JSON never throws anything but SnapshotError (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          directorToSnapshot(directorFromSnapshot(validateSnapshot(v)));
        } catch (e) {
          expect(e).toBeInstanceOf(SnapshotError);
        }
      }),
    );
  });

  test("random mutations of a real snapshot never crash the loader (property)", () => {
    const base = JSON.parse(scenarios()[0][1]);
    const paths: (string | number)[][] = [];
    const walk = (o: unknown, p: (string | number)[]) => {
      if (o && typeof o === "object")
        for (const [k, v] of Object.entries(o)) walk(v, [...p, Array.isArray(o) ? Number(k) : k]);
      else paths.push(p);
    };
    walk(base, []);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: paths.length - 1 }), fc.jsonValue(), (i, v) => {
        const copy = structuredClone(base);
        let o = copy;
        const p = paths[i];
        for (const k of p.slice(0, -1)) o = o[k];
        o[p[p.length - 1]] = v;
        try {
          directorToSnapshot(directorFromSnapshot(validateSnapshot(copy)));
        } catch (e) {
          expect(e).toBeInstanceOf(SnapshotError);
        }
      }),
    );
  });
});
