/**
 * Write-back: with the live state the file describes, the text comes back byte for byte; after
 * changes through the Director only the lines that describe them change (comments and the rest
 * kept), in the file's own dialect and indentation, and the new text re-parses to the live state.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Director } from "../../src/director/director.ts";
import { parseIp } from "../../src/model/addr.ts";
import type { ServiceId } from "../../src/model/service.ts";
import { memoryReader, NO_NAMES, parseRules } from "../../src/rules/load.ts";
import type { RulesConfig } from "../../src/rules/model.ts";
import { planReload } from "../../src/rules/plan.ts";
import { writeBack, writeBackFiles } from "../../src/rules/write-back.ts";
import { applyAll, directorFrom, parseOk } from "./helpers.ts";

const ROOT = join(import.meta.dir, "../..");
const ip = (s: string) => parseIp(s)!;

/** Parse, build the live director, change it, write back; the result must re-parse to the live state. */
function change(text: string, mutate: (d: Director, c: RulesConfig) => void): string {
  const c = parseOk(text);
  const d = directorFrom(c);
  mutate(d, c);
  const out = writeBack(text, c, d);
  expect(planReload(d, parseOk(out)).lines).toEqual(["= no changes"]);
  return out;
}

/** Lines of `b` not in `a` and of `a` not in `b` (a line diff good enough for small edits). */
function lineDiff(a: string, b: string): { removed: string[]; added: string[] } {
  const la = a.split("\n");
  const lb = b.split("\n");
  let s = 0;
  while (s < la.length && s < lb.length && la[s] === lb[s]) s++;
  let e = 0;
  while (e < la.length - s && e < lb.length - s && la[la.length - 1 - e] === lb[lb.length - 1 - e]) e++;
  return { removed: la.slice(s, la.length - e), added: lb.slice(s, lb.length - e) };
}

const WEB = `# web tier
virtual_server 192.0.2.10 80 {
    lvs_sched rr   # round robin
    lvs_method NAT
    protocol TCP
    delay_loop 5   # kept for the health checker

    real_server 10.0.0.1 8080 {
        weight 2
        TCP_CHECK {
            connect_timeout 3
        }
    }
    # the backup box
    real_server 10.0.0.2 8080 {
        weight 1
    }
}

! a one-liner
virtual_server 192.0.2.11 53 { lvs_sched sh; lvs_method NAT; protocol UDP }
`.replace(/; /g, "\n    ");

const web: ServiceId = { kind: "addr", af: "inet", protocol: "tcp", addr: ip("192.0.2.10"), port: 80 };
const dest = (c: RulesConfig, i = 0, j = 0) => c.services[i].dests[j].config;

describe("round trip with the same live state", () => {
  const files = [
    join(ROOT, "rules/example-keepalived.conf"),
    join(ROOT, "rules/example-ipvsadm.conf"),
    ...readdirSync(join(import.meta.dir, "fixtures")).map((f) => join(import.meta.dir, "fixtures", f)),
  ];
  for (const f of files) {
    test(f.slice(ROOT.length + 1), () => {
      const text = readFileSync(f, "utf8");
      const c = parseOk(text);
      expect(writeBack(text, c, directorFrom(c))).toBe(text);
    });
  }
  test("WEB", () => {
    const c = parseOk(WEB);
    expect(writeBack(WEB, c, directorFrom(c))).toBe(WEB);
  });
});

describe("keepalived dialect", () => {
  test("a weight edit changes one token", () => {
    const out = change(WEB, (d, c) =>
      applyAll(d, [{ op: "edit-server", service: web, dest: { ...dest(c), weight: 7 } }]),
    );
    expect(lineDiff(WEB, out)).toEqual({ removed: ["        weight 2"], added: ["        weight 7"] });
  });

  test("removing a real server removes its block only; comments stay", () => {
    const out = change(WEB, (d) =>
      applyAll(d, [{ op: "delete-server", service: web, addr: ip("10.0.0.1"), port: 8080 }]),
    );
    expect(lineDiff(WEB, out).added).toEqual([]);
    expect(lineDiff(WEB, out).removed).toEqual([
      "    real_server 10.0.0.1 8080 {",
      "        weight 2",
      "        TCP_CHECK {",
      "            connect_timeout 3",
      "        }",
      "    }",
    ]);
    expect(out).toContain("# the backup box");
  });

  test("a new real server goes at the end of its block, in the block's indentation", () => {
    const out = change(WEB, (d, c) =>
      applyAll(d, [
        { op: "add-server", service: web, dest: { ...dest(c), addr: ip("10.0.0.3"), weight: 4 } },
      ]),
    );
    expect(lineDiff(WEB, out)).toEqual({
      removed: [],
      added: ["    real_server 10.0.0.3 8080 {", "        weight 4", "    }"],
    });
  });

  test("tabs are kept as the indentation", () => {
    const text = "virtual_server 192.0.2.10 80 {\n\tlvs_sched rr\n\tlvs_method NAT\n\tprotocol TCP\n}\n";
    const out = change(text, (d, c) =>
      applyAll(d, [
        {
          op: "add-server",
          service: c.services[0].id,
          dest: { ...dest(parseOk(WEB)), addr: ip("10.0.0.9") },
        },
      ]),
    );
    expect(out).toBe(
      "virtual_server 192.0.2.10 80 {\n\tlvs_sched rr\n\tlvs_method NAT\n\tprotocol TCP\n\treal_server 10.0.0.9 8080 {\n\t\tweight 2\n\t}\n}\n",
    );
  });

  test("service settings: the scheduler token, inserted persistence and flags, before the real servers", () => {
    const out = change(WEB, (d, c) =>
      applyAll(d, [
        {
          op: "edit-service",
          service: web,
          config: { ...c.services[0].config, scheduler: "sh", flags: 0x11, timeout: 120 },
        },
      ]),
    );
    expect(out).toBe(
      WEB.replace("lvs_sched rr", "lvs_sched sh").replace(
        "checker\n",
        "checker\n    persistence_timeout 120\n    sh-port\n",
      ),
    );
  });

  test("a one-line block is edited in place", () => {
    const udp: ServiceId = { kind: "addr", af: "inet", protocol: "udp", addr: ip("192.0.2.11"), port: 53 };
    const out = change(WEB, (d, c) =>
      applyAll(d, [{ op: "add-server", service: udp, dest: { ...dest(c), addr: ip("10.0.0.5"), port: 53 } }]),
    );
    expect(
      out.endsWith("    protocol UDP\n    real_server 10.0.0.5 53 {\n        weight 2\n    }\n}\n"),
    ).toBe(true);
    expect(out.startsWith(WEB.slice(0, WEB.indexOf("    protocol UDP }")))).toBe(true);
  });

  test("a deleted service's block goes; a new service is appended", () => {
    const out = change(WEB, (d) =>
      applyAll(d, [
        { op: "delete-service", service: web },
        {
          op: "add-service",
          service: { kind: "fwmark", af: "inet", fwmark: 3 },
          config: { scheduler: "mh", flags: 0x19, timeout: 60, netmask: 0xffffff00, peName: null },
        },
      ]),
    );
    expect(out.startsWith("# web tier\n\n! a one-liner\n")).toBe(true);
    expect(
      out.endsWith(
        "\nvirtual_server fwmark 3 {\n    lvs_sched mh\n    lvs_method NAT\n    persistence_timeout 60\n    persistence_granularity 255.255.255.0\n    mh-fallback\n    mh-port\n}\n",
      ),
    ).toBe(true);
  });

  test("a file written with lb_algo / lb_kind gets them in what is added, too", () => {
    const text = WEB.replace(/lvs_sched/g, "lb_algo")
      .replace(/lvs_method/g, "lb_kind")
      .replace("10.0.0.2 8080", "10.0.0.2 80");
    const out = change(text, (d, c) =>
      applyAll(d, [
        { op: "edit-server", service: web, dest: { ...dest(c, 0, 1), forward: "tunnel" } },
        {
          op: "add-server",
          service: web,
          dest: { ...dest(c), addr: ip("10.0.0.3"), port: 80, forward: "route" },
        },
        {
          op: "add-service",
          service: { ...web, port: 443 },
          config: { scheduler: "wlc", flags: 0, timeout: 0, netmask: 0xffffffff, peName: null },
        },
      ]),
    );
    expect(out).toContain("        lb_kind TUN\n");
    expect(out).toContain("    real_server 10.0.0.3 80 {\n        weight 2\n        lb_kind DR\n    }\n");
    expect(
      out.endsWith(
        "virtual_server 192.0.2.10 443 {\n    lb_algo wlc\n    lb_kind NAT\n    protocol TCP\n}\n",
      ),
    ).toBe(true);
    expect(out).not.toMatch(/lvs_sched|lvs_method/);
  });

  test("method and thresholds of a real server", () => {
    const text = WEB.replace("10.0.0.2 8080", "10.0.0.2 80");
    const out = change(text, (d, c) =>
      applyAll(d, [
        {
          op: "edit-server",
          service: web,
          dest: { ...dest(c, 0, 1), forward: "tunnel", uThreshold: 9, lThreshold: 3 },
        },
      ]),
    );
    expect(lineDiff(text, out)).toEqual({
      removed: [],
      added: ["        lvs_method TUN", "        uthreshold 9", "        lthreshold 3"],
    });
  });
});

describe("groups", () => {
  const G = `virtual_server_group WEB {
    192.0.2.1 80
    192.0.2.2-3 80
}
virtual_server group WEB {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.0.0.1 80 {
        weight 1
    }
}
`;
  const ids = (c: RulesConfig) => c.services.map((s) => s.id);

  test("the same change on every member edits the shared block once", () => {
    const out = change(G, (d, c) =>
      applyAll(
        d,
        ids(c).map((id) => ({ op: "edit-server" as const, service: id, dest: { ...dest(c), weight: 5 } })),
      ),
    );
    expect(lineDiff(G, out)).toEqual({ removed: ["        weight 1"], added: ["        weight 5"] });
  });

  test("a member that differs is taken out of the group and written on its own", () => {
    const out = change(G, (d, c) =>
      applyAll(d, [{ op: "edit-server", service: ids(c)[2], dest: { ...dest(c), weight: 9 } }]),
    );
    expect(out.startsWith("virtual_server_group WEB {\n    192.0.2.1 80\n    192.0.2.2 80\n}\n")).toBe(true);
    expect(out).toContain("virtual_server 192.0.2.3 80 {\n    lvs_sched rr\n");
  });

  test("deleting a member narrows its entry; deleting all removes group and block", () => {
    const one = change(G, (d, c) => applyAll(d, [{ op: "delete-service", service: ids(c)[0] }]));
    expect(lineDiff(G, one)).toEqual({ removed: ["    192.0.2.1 80"], added: [] });
    const all = change(G, (d, c) =>
      applyAll(
        d,
        ids(c).map((id) => ({ op: "delete-service" as const, service: id })),
      ),
    );
    expect(all).toBe("");
  });
});

describe("save format", () => {
  const S =
    "# saved\n-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 10.0.0.1:80 -m -w 1\n-a -t 192.0.2.1:80 -r 10.0.0.2:80 -m -w 1\n\n-A -u 192.0.2.1:53 -s sh\n";
  const svc: ServiceId = { kind: "addr", af: "inet", protocol: "tcp", addr: ip("192.0.2.1"), port: 80 };

  test("edit, delete and add real servers; only their lines change", () => {
    const out = change(S, (d, c) =>
      applyAll(d, [
        { op: "edit-server", service: svc, dest: { ...dest(c), weight: 3 } },
        { op: "delete-server", service: svc, addr: ip("10.0.0.2"), port: 80 },
        { op: "add-server", service: svc, dest: { ...dest(c), addr: ip("10.0.0.3"), uThreshold: 50 } },
      ]),
    );
    expect(out).toBe(
      "# saved\n-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 10.0.0.1:80 -m -w 3\n-a -t 192.0.2.1:80 -r 10.0.0.3:80 -m -w 1 -x 50\n\n-A -u 192.0.2.1:53 -s sh\n",
    );
  });

  test("service edit and a new service", () => {
    const out = change(S, (d, c) =>
      applyAll(d, [
        {
          op: "edit-service",
          service: svc,
          config: { ...c.services[0].config, flags: 1, timeout: 300, netmask: 0xffff0000 },
        },
        {
          op: "add-service",
          service: { kind: "fwmark", af: "inet6", fwmark: 2 },
          config: { scheduler: "wlc", flags: 0, timeout: 0, netmask: 128, peName: null },
        },
      ]),
    );
    expect(out).toBe(
      "# saved\n-A -t 192.0.2.1:80 -s rr -p 300 -M 255.255.0.0\n-a -t 192.0.2.1:80 -r 10.0.0.1:80 -m -w 1\n-a -t 192.0.2.1:80 -r 10.0.0.2:80 -m -w 1\n\n-A -u 192.0.2.1:53 -s sh\n-A -f 2 -6 -s wlc\n",
    );
  });
});

describe("includes", () => {
  test("a change in an included file edits that file", () => {
    const main = "# main\ninclude web.conf\n";
    const inc =
      "virtual_server 192.0.2.10 80 {\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n  real_server 10.0.0.1 80 {\n    weight 1\n  }\n}\n";
    const files = { "/etc/uvs/uvs.conf": main, "/etc/uvs/web.conf": inc };
    const r = parseRules("/etc/uvs/uvs.conf", main, { reader: memoryReader(files), names: NO_NAMES });
    const d = directorFrom(r.config!);
    applyAll(d, [{ op: "edit-server", service: web, dest: { ...dest(r.config!), weight: 4 } }]);
    const out = writeBackFiles(r.texts, r.config!, d);
    expect(out.get("/etc/uvs/uvs.conf")).toBe(main);
    expect(out.get("/etc/uvs/web.conf")).toBe(inc.replace("weight 1", "weight 4"));
    expect(() => writeBack(main, r.config!, d)).toThrow("included file /etc/uvs/web.conf");
  });
});
