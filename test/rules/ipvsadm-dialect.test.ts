/**
 * The save format as a rules file (ipvsadm's own parser underneath), dialect detection, and
 * `uvs check` output and exit codes.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCheck } from "../../src/cli/check.ts";
import { serviceKey } from "../../src/model/service.ts";
import { detectDialect } from "../../src/rules/detect.ts";
import { memoryReader, NO_NAMES } from "../../src/rules/load.ts";
import { errors, FILE, lines, parse, parseOk } from "./helpers.ts";

const ROOT = join(import.meta.dir, "../..");
const DEMO = readFileSync(join(ROOT, "rules/example-ipvsadm.conf"), "utf8");

describe("detectDialect", () => {
  const cases: [string, string][] = [
    ["", "keepalived"],
    ["# only a comment\n", "keepalived"],
    ["\n# saved\n-A -t 1.2.3.4:80 -s rr\n", "ipvsadm"],
    ["ipvsadm -A -t 1.2.3.4:80\n", "ipvsadm"],
    ["! comment\nvirtual_server 1.2.3.4 80 {\n}\n", "keepalived"],
    ["--add-service -t 1.2.3.4:80\n", "ipvsadm"],
  ];
  for (const [text, want] of cases)
    test(JSON.stringify(text), () => expect<string>(detectDialect(text)).toBe(want));
});

describe("save format", () => {
  test("rules/example-ipvsadm.conf", () => {
    const c = parseOk(DEMO);
    expect(c.dialect).toBe("ipvsadm");
    expect(c.services.map((s) => serviceKey(s.id))).toEqual([
      "tcp:127.0.0.1:8080",
      "udp:127.0.0.1:5353",
      "fwm:1",
    ]);
    expect(c.services[0].dests.map((d) => `${d.config.port}:${d.config.weight}`)).toEqual([
      "9001:3",
      "9002:1",
    ]);
    expect(c.services[2].config).toMatchObject({ scheduler: "wlc", timeout: 600, netmask: 0xffffff00 });
    expect(c.services[0].listen).toHaveLength(1);
  });

  test("comments, blank lines, the ipvsadm word, thresholds and tunnels", () => {
    const c = parseOk(
      "# saved by ipvsadm-save\n\nipvsadm -A -u 192.0.2.1:53 -s sh -b sh-port -o\n-a -u 192.0.2.1:53 -r 10.0.0.1:53 -i --tun-type gue --tun-port 6080 --tun-csum -w 2 -x 10 -y 5\n",
    );
    const s = c.services[0];
    expect(s.pos).toMatchObject({ line: 3, col: 9 });
    expect(s.dests[0].config).toMatchObject({
      forward: "tunnel",
      tunnelType: "gue",
      tunnelPort: 6080,
      tunnelCsum: "csum",
    });
    expect(s.dests[0].config).toMatchObject({ weight: 2, uThreshold: 10, lThreshold: 5 });
  });

  const ERRORS: [string, string, string[]][] = [
    [
      "server before its service",
      "-a -t 1.2.3.4:80 -r 10.0.0.1 -m\n",
      ["1:1: error: no -A line for service tcp:1.2.3.4:80 before this real server"],
    ],
    [
      "bad weight points at -w",
      "-A -t 1.2.3.4:80\n-a -t 1.2.3.4:80 -r 10.0.0.1 -m -w x\n",
      ["2:33: error: illegal weight specified"],
    ],
    ["unknown scheduler", "-A -t 1.2.3.4:80 -s rrr\n", ["1:21: error: unknown scheduler 'rrr'"]],
    [
      "not a rule",
      "-A -t 1.2.3.4:80\n-C\n",
      ["2:1: error: 'flush' is not a rule: a rules file holds -A (add service) and -a (add server) lines"],
    ],
    [
      "junk line",
      "-A -t 1.2.3.4:80\nfoo bar\n",
      ["2:1: error: not a rule: a line of an ipvsadm rules file starts with -A or -a"],
    ],
    [
      "duplicates",
      "-A -t 1.2.3.4:80\n-A -t 1.2.3.4:80\n-a -t 1.2.3.4:80 -r 10.0.0.1 -m\n-a -t 1.2.3.4:80 -r 10.0.0.1:80 -m\n",
      [
        "2:1: error: duplicate virtual service tcp:1.2.3.4:80 (already at line 1)",
        "4:1: error: duplicate real server 10.0.0.1:80 (already at line 3)",
      ],
    ],
    ["zero port", "-A -t 1.2.3.4:0 -s rr\n", ["1:1: error: Zero port specified for non-persistent service"]],
    [
      "thresholds",
      "-A -t 1.2.3.4:80\n-a -t 1.2.3.4:80 -r 10.0.0.1 -m -y 9\n",
      ["2:1: error: l-threshold 9 is above u-threshold 0"],
    ],
  ];
  for (const [name, text, want] of ERRORS) {
    test(name, () => {
      const r = parse(text);
      expect(lines(errors(r.diagnostics))).toEqual(want.map((w) => `${FILE}:${w}`));
      expect(r.config).toBeNull();
    });
  }
});

describe("uvs check", () => {
  const run = (args: string[], files: Record<string, string>) => {
    let out = "";
    let err = "";
    const code = runCheck(args, {
      stdout: (t) => {
        out += t;
      },
      stderr: (t) => {
        err += t;
      },
      reader: memoryReader(files),
      names: NO_NAMES,
    });
    return { code, out, err };
  };

  test("usable file: warnings on stderr, summary, exit 0", () => {
    const r = run(["demo.conf"], { "demo.conf": DEMO });
    expect(r.code).toBe(0);
    expect(r.err).toBe(
      "demo.conf:9:1: warning: a fwmark service: the proxy plane will not listen for it (the save format has no proxy_listen; use the keepalived dialect)\n",
    );
    expect(r.out).toBe(
      "demo.conf: ok (ipvsadm syntax): 3 virtual services, 4 real servers; 0 errors, 1 warning\n",
    );
  });

  test("the keepalived example is clean", () => {
    const text = readFileSync(join(ROOT, "rules/example-keepalived.conf"), "utf8");
    const r = run(["x.conf"], { "x.conf": text });
    expect([r.code, r.err]).toEqual([0, ""]);
    expect(r.out).toBe(
      "x.conf: ok (keepalived syntax): 3 virtual services, 4 real servers; 0 errors, 0 warnings\n",
    );
  });

  test("unusable file: every error, exit 1; --quiet drops warnings", () => {
    const text = "virtual_server 1.2.3.4 80 {\n lb_algo nope\n delay_loop 3\n}\n}\n";
    const r = run(["--quiet", "bad.conf"], { "bad.conf": text });
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      "bad.conf:2:10: error: unknown scheduler 'nope'\nbad.conf:5:1: error: unexpected '}' with no open block\n",
    );
    expect(r.out).toBe("bad.conf: not usable: 2 errors, 3 warnings; nothing would be applied\n");
  });

  test("what the daemon checks beyond the parser counts too: VRRP errors, checker values it cannot read", () => {
    const vrrp = run(["v.conf"], {
      "v.conf":
        "vrrp_instance VI_1 {\n  state MASTR\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress { 192.0.2.1 }\n}\n",
    });
    expect(vrrp.code).toBe(1);
    expect(vrrp.err).toBe("v.conf:2:9: error: invalid state 'MASTR': expected MASTER or BACKUP\n");
    expect(vrrp.out).toBe("v.conf: not usable: 1 error, 0 warnings; nothing would be applied\n");
    const hc = run(["h.conf"], {
      "h.conf":
        "virtual_server 127.0.0.1 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 127.0.0.1 81 {\n  TCP_CHECK {\n   connect_timeout abc\n  }\n }\n}\n",
    });
    expect(hc.code).toBe(0);
    expect(hc.err).toBe("h.conf:7:4: warning: invalid connect_timeout 'abc'; using the default\n");
  });

  test("missing file and usage", () => {
    expect(run(["nope.conf"], {}).code).toBe(1);
    expect(run([], {}).code).toBe(2);
    expect(run(["a", "b"], {}).err).toBe("usage: uvs check [--quiet] FILE\n");
  });
});
