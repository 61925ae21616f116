/**
 * keepalived syntax: lexical and structural errors, keyword checks and values, each reported as
 * FILE:LINE:COL with the message; a file with any error yields no config.
 */
import { describe, expect, test } from "bun:test";
import { destHealth } from "../../src/rules/health-settings.ts";
import { Diagnostics } from "../../src/rules/model.ts";
import { parseKeepalived } from "../../src/rules/parser.ts";
import { errors, FILE, lines, parse, warnings } from "./helpers.ts";

const VS = (body: string, header = "192.0.2.10 80") =>
  `virtual_server ${header} {\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n${body}}\n`;

describe("statements and tokens", () => {
  test("braces split statements wherever they stand; quotes and escapes", () => {
    const d = new Diagnostics();
    const cst = parseKeepalived('a{b "x y" z}c \\# d ! comment\ne "q#r" f\\\n g\n', "f", d);
    expect(d.list).toEqual([]);
    const a = cst.stmts[0];
    expect(a.keyword.text).toBe("a");
    expect(a.block?.body.map((s) => [s.keyword.text, ...s.args.map((t) => t.text)])).toEqual([
      ["b", "x y", "z"],
    ]);
    expect(cst.stmts.slice(1).map((s) => [s.keyword.text, ...s.args.map((t) => t.text)])).toEqual([
      ["c", "#", "d"],
      ["e", "q#r", "f", "g"],
    ]);
    expect([a.start, a.end]).toEqual([0, 12]);
    const c = cst.stmts[1];
    expect([c.keyword.line, c.keyword.col, c.args[0].col]).toEqual([1, 13, 15]);
  });

  test("deep nesting is an error, not a stack overflow", () => {
    const d = new Diagnostics();
    parseKeepalived(`${"a {".repeat(5000)}`, "f", d);
    expect(d.list.map((x) => x.message)).toEqual(["blocks nested deeper than 32 levels"]);
  });
});

/** [name, file text, expected FILE:LINE:COL: severity: message lines (errors only)] */
const ERROR_CASES: [string, string, string[]][] = [
  [
    "unterminated string",
    'global_defs {\n  router_id "abc\n}\n',
    ["2:13: error: unterminated string: missing closing '\"'"],
  ],
  [
    "unclosed block",
    "virtual_server 192.0.2.1 80 {\n  lvs_sched rr\n",
    ["1:29: error: missing '}' for this '{'"],
  ],
  ["stray close", "}\n", ["1:1: error: unexpected '}' with no open block"]],
  ["brace without keyword", "{ a }\n", ["1:1: error: unexpected '{' without a keyword before it"]],
  [
    "typo at top level",
    "virtual_sever 192.0.2.1 80 {\n}\n",
    ["1:1: error: unknown keyword 'virtual_sever' in the top level; did you mean 'virtual_server'?"],
  ],
  [
    "unknown keyword, no suggestion",
    VS("  frobnicate 3\n"),
    ["5:3: error: unknown keyword 'frobnicate' in virtual_server"],
  ],
  [
    "typo in virtual_server",
    VS("  lb_algoo rr\n"),
    ["5:3: error: unknown keyword 'lb_algoo' in virtual_server; did you mean 'lb_algo'?"],
  ],
  [
    "typo in real_server",
    VS("  real_server 10.0.0.1 80 {\n    wieght 2\n  }\n"),
    ["6:5: error: unknown keyword 'wieght' in real_server; did you mean 'weight'?"],
  ],
  [
    "case matters for keywords",
    VS("  real_server 10.0.0.1 80 {\n    tcp_check {\n    }\n  }\n"),
    ["6:5: error: unknown keyword 'tcp_check' in real_server; did you mean 'TCP_CHECK'?"],
  ],
  [
    "typo inside a checker",
    VS("  real_server 10.0.0.1 80 {\n    TCP_CHECK {\n      conect_timeout 3\n    }\n  }\n"),
    ["7:7: error: unknown keyword 'conect_timeout' in TCP_CHECK; did you mean 'connect_timeout'?"],
  ],
  [
    "HTTP_GET without url",
    VS("  real_server 10.0.0.1 80 {\n    HTTP_GET {\n      connect_timeout 3\n    }\n  }\n"),
    ["6:5: error: 'HTTP_GET' needs at least one 'url { path … }' block"],
  ],
  [
    "bad scheduler",
    VS("  real_server 10.0.0.1 80 {\n  }\n").replace("rr", "rrr"),
    ["2:13: error: unknown scheduler 'rrr'"],
  ],
  [
    "lower-case method",
    VS("").replace("NAT", "nat"),
    ["3:14: error: invalid forwarding method 'nat': expected NAT, DR or TUN (methods are upper case)"],
  ],
  [
    "duplicate keyword (alias)",
    VS("  lb_algo wlc\n"),
    ["5:3: error: duplicate 'lb_algo' (already set at line 2:3)"],
  ],
  [
    "bad address",
    "virtual_server 192.0.2.300 80 {\n}\n",
    ["1:16: error: invalid virtual server address '192.0.2.300': expected an IPv4 or IPv6 address"],
  ],
  [
    "bad port",
    "virtual_server 192.0.2.3 65536 {\n}\n",
    ["1:26: error: invalid port '65536': expected an integer 0..65535"],
  ],
  ["missing block", "virtual_server 192.0.2.3 80\n", ["1:1: error: 'virtual_server' needs a '{ … }' block"]],
  [
    "weight out of range",
    VS("  real_server 10.0.0.1 80 {\n    weight 2147483648\n  }\n"),
    ["6:12: error: invalid weight '2147483648': expected an integer 0..2147483647"],
  ],
  [
    "thresholds",
    VS("  real_server 10.0.0.1 80 {\n    uthreshold 5\n    lthreshold 9\n  }\n"),
    ["7:5: error: lthreshold 9 is above uthreshold 5"],
  ],
  [
    "persistence timeout range",
    VS("  persistence_timeout 2678401\n"),
    ["5:23: error: invalid persistence timeout '2678401': expected an integer 1..2678400"],
  ],
  [
    "non-contiguous netmask",
    VS("  persistence_granularity 255.0.255.0\n"),
    ["5:27: error: invalid netmask '255.0.255.0': the one bits must be contiguous"],
  ],
  [
    "ops needs UDP",
    VS("  ops\n"),
    ["5:3: error: 'ops' (one-packet scheduling) is only for UDP virtual services"],
  ],
  [
    "sched flag needs its scheduler",
    VS("  sh-port\n"),
    ["5:3: error: 'sh-port' needs lvs_sched sh (this service uses rr)"],
  ],
  [
    "duplicate real server (after port rules)",
    VS("  real_server 10.0.0.1 {\n  }\n  real_server 10.0.0.1 80 {\n  }\n"),
    ["7:3: error: duplicate real server 10.0.0.1:80 (already at line 5:3)"],
  ],
  [
    "duplicate service",
    `${VS("")}${VS("")}`,
    ["6:1: error: duplicate virtual service tcp:192.0.2.10:80 (already at /etc/uvs/uvs.conf:1:1)"],
  ],
  [
    "checker outside a real server",
    VS("  TCP_CHECK {\n  }\n"),
    ["5:3: error: health checker 'TCP_CHECK' belongs inside a real_server block"],
  ],
  [
    "proxy_listen on an ordinary service",
    VS("  proxy_listen 192.0.2.10 80\n"),
    [
      "5:3: error: proxy_listen is only for fwmark and port-0 services: this service listens on its own address",
    ],
  ],
  [
    "proxy_listen ports",
    VS("  proxy_listen 192.0.2.10 90-80\n", "fwmark 3"),
    ["5:27: error: invalid port list '90-80': expected ports 1..65535 and ranges like 8000-8099"],
  ],
  [
    "proxy_protocol version",
    VS("  real_server 10.0.0.1 80 {\n    proxy_protocol v3\n  }\n"),
    ["6:20: error: invalid PROXY protocol version 'v3': expected v1 or v2"],
  ],
  ["unknown group", VS("", "group NOPE"), ["1:22: error: no virtual_server_group named 'NOPE'"]],
  [
    "IPv6 real server under an IPv4 NAT service",
    VS("  real_server 2001:db8::1 80 {\n  }\n"),
    ["5:15: error: a real server of another address family needs lvs_method TUN"],
  ],
  [
    "preprocessor",
    "$VIP=192.0.2.1\n",
    ["1:1: error: uvs does not support keepalived's preprocessor parameter definitions ($NAME=…)"],
  ],
  [
    "gue tunnel needs a port",
    VS("  real_server 10.0.0.1 80 {\n    lvs_method TUN type gue\n  }\n"),
    ["6:25: error: a gue tunnel needs 'port N'"],
  ],
  [
    "several errors, all reported in order",
    "virtual_server 192.0.2.1 80 {\n  lb_algo xx\n  protocol FOO\n  real_server 1.2.3 80 {\n  }\n}\n",
    [
      "2:11: error: unknown scheduler 'xx'",
      "3:12: error: invalid protocol 'FOO': expected TCP, UDP or SCTP",
      "4:15: error: invalid real server address '1.2.3': expected an IPv4 or IPv6 address",
    ],
  ],
];

describe("errors carry file:line:column", () => {
  for (const [name, text, want] of ERROR_CASES) {
    test(name, () => {
      const r = parse(text);
      expect(lines(errors(r.diagnostics))).toEqual(want.map((w) => `${FILE}:${w}`));
      expect(r.config).toBeNull();
    });
  }
});

describe("warnings name what uvs does not act on", () => {
  test("kept keywords, checkers and blocks nothing acts on get a warning; health and VRRP ones do not", () => {
    const text = `global_defs {\n  router_id lb1\n}\nvrrp_instance VI_1 {\n  state MASTER\n}\n${VS(
      "  delay_loop 5\n  real_server 10.0.0.1 80 {\n    inhibit_on_failure\n    TCP_CHECK {\n      connect_timeout 2\n    }\n    BFD_CHECK {\n    }\n  }\n  ha_suspend\n",
    )}`;
    const r = parse(text);
    expect(r.config).not.toBeNull();
    expect(lines(warnings(r.diagnostics))).toEqual([
      `${FILE}:1:1: warning: block 'global_defs' is kept but uvs does not act on it yet`,
      `${FILE}:17:5: warning: health checker 'BFD_CHECK' is kept but uvs does not run it`,
      `${FILE}:20:3: warning: 'ha_suspend' in virtual_server is kept but uvs does not act on it yet`,
    ]);
    expect(r.config!.blocks.map((b) => b.keyword.text)).toEqual(["global_defs", "vrrp_instance"]);
    const d = r.config!.services[0].dests[0];
    expect(d.checkers.map((c) => [c.type, c.pos.line])).toEqual([
      ["TCP_CHECK", 14],
      ["BFD_CHECK", 17],
    ]);
    expect(d.kept.map((s) => s.keyword.text)).toEqual(["inhibit_on_failure"]);
    expect(r.config!.services[0].kept.map((s) => s.keyword.text)).toEqual(["delay_loop", "ha_suspend"]);
  });

  test("keepalived's defaults are warnings", () => {
    const r = parse("virtual_server 192.0.2.1 80 {\n  real_server 10.0.0.1 80 {\n  }\n}\n");
    expect(lines(r.diagnostics)).toEqual([
      `${FILE}:1:1: warning: no lvs_sched (lb_algo): using wlc, as keepalived does`,
      `${FILE}:1:1: warning: no lvs_method (lb_kind): using NAT, as keepalived does`,
      `${FILE}:1:1: warning: no protocol: defaulting to UDP, as keepalived does`,
    ]);
  });

  test("a wrong value is an error, not also a missing one", () => {
    const r = parse(
      "virtual_server 192.0.2.1 80 {\n  lb_algo bogus\n  lb_kind NATT\n  protocol TCPP\n  real_server 10.0.0.1 80 {\n  }\n}\n",
    );
    expect(lines(warnings(r.diagnostics))).toEqual([]);
    expect(r.diagnostics.filter((d) => d.severity === "error").length).toBe(3);
  });

  test("keepalived 1 keywords keepalived 2 ignores (nat_mask, nb_get_retry outside HTTP_GET) are warnings", () => {
    const r = parse(
      VS(
        "  nat_mask 255.255.255.0\n  real_server 10.0.0.1 80 {\n    TCP_CHECK {\n      nb_get_retry 3\n      connect_port 80\n    }\n  }\n",
      ),
    );
    expect(lines(errors(r.diagnostics))).toEqual([]);
    expect(lines(warnings(r.diagnostics))).toEqual([
      `${FILE}:5:3: warning: 'nat_mask' is keepalived 1's and has no effect; keepalived 2 ignores it, and so does uvs`,
      `${FILE}:8:7: warning: 'nb_get_retry' is only HTTP_GET/SSL_GET's old name for 'retry': keepalived ignores it in TCP_CHECK, and so does uvs (write 'retry N' to retry)`,
    ]);
    // Ignored, as keepalived: the TCP check keeps its default single try.
    const svc = r.config!.services[0];
    expect(destHealth(svc, svc.dests[0]).checks[0]).toMatchObject({
      type: "TCP_CHECK",
      timing: { retry: 1 },
    });
    // Only those: another unknown keyword in the same places stays an error.
    expect(lines(errors(parse(VS("  nat_mask2 1\n")).diagnostics))).toHaveLength(1);
  });

  test("a fwmark service without proxy_listen", () => {
    const r = parse(VS("  real_server 10.0.0.1 80 {\n  }\n", "fwmark 7"));
    expect(lines(warnings(r.diagnostics))).toEqual([
      `${FILE}:1:1: warning: no proxy_listen for fwmark 7: the proxy plane will not listen for it`,
    ]);
  });
});

describe("names of Object's methods are unknown names, not methods", () => {
  for (const name of ["toString", "constructor", "__proto__", "valueOf", "hasOwnProperty"]) {
    test(name, () => {
      for (const text of [
        VS("").replace("NAT", name),
        VS("").replace("TCP", name),
        VS(`  ${name} 1\n`),
        VS(`  real_server 10.0.0.1 80 {\n    ${name} {\n    }\n  }\n`),
      ]) {
        const r = parse(text);
        expect(r.config).toBeNull();
        expect(lines(errors(r.diagnostics)).join("\n")).toContain(`'${name}'`);
      }
    });
  }
});
