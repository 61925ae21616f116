/**
 * What the daemon gets from a keepalived-syntax file: keepalived's defaults and port rules,
 * groups expanded to one service each, includes, proxy_listen and proxy_protocol, and the spec's
 * ten example configurations.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED2, serviceKey } from "../../src/model/service.ts";
import { errors, FILE, lines, parse, parseOk, warnings } from "./helpers.ts";

const keys = (text: string) => parseOk(text).services.map((s) => serviceKey(s.id));
const dests = (text: string, i = 0) =>
  parseOk(text).services[i].dests.map(
    (d) => `${d.config.addr.text}:${d.config.port} ${d.config.forward} w${d.config.weight}`,
  );

describe("defaults", () => {
  test("no lvs_sched/lvs_method/protocol: wlc, NAT, UDP", () => {
    const s = parseOk("virtual_server 192.0.2.1 80 {\n real_server 10.0.0.1 80 {\n }\n}\n").services[0];
    expect(s.id).toMatchObject({ kind: "addr", protocol: "udp", port: 80 });
    expect(s.config).toEqual({ scheduler: "wlc", flags: 0, timeout: 0, netmask: 0xffffffff, peName: null });
    expect(s.dests[0].config.forward).toBe("masq");
  });

  test("bare persistence_timeout is 360; granularity alone makes it persistent too", () => {
    const base = "virtual_server 192.0.2.1 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n";
    const a = parseOk(`${base} persistence_timeout\n}\n`).services[0].config;
    expect([a.flags & SVC_F_PERSISTENT, a.timeout, a.netmask]).toEqual([SVC_F_PERSISTENT, 360, 0xffffffff]);
    const b = parseOk(`${base} persistence_granularity 255.255.255.0\n}\n`).services[0].config;
    expect([b.timeout, b.netmask]).toEqual([360, 0xffffff00]);
    const c = parseOk(`${base} persistence_timeout 900\n}\n`).services[0].config;
    expect(c.timeout).toBe(900);
  });

  test("persistence_timeout 0 (common for 'not persistent'): a warning and no persistence, as keepalived", () => {
    const base = "virtual_server 192.0.2.1 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n";
    const r = parse(`${base} persistence_timeout 0\n}\n`);
    expect(r.config!.services[0].config).toMatchObject({ flags: 0, timeout: 0 });
    expect(lines(warnings(r.diagnostics))).toContain(
      `${FILE}:5:22: warning: persistence_timeout 0 is outside 1..2678400; as keepalived does, the service is not persistent`,
    );
    // With a granularity keepalived still makes it persistent (360 s); so does uvs.
    const g = parseOk(`${base} persistence_timeout 0\n persistence_granularity 255.255.255.0\n}\n`);
    expect(g.services[0].config).toMatchObject({ flags: SVC_F_PERSISTENT, timeout: 360 });
  });

  test("IPv6 service: netmask is a prefix length (default 128)", () => {
    const base = "virtual_server 2001:db8::10 443 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n";
    expect(parseOk(`${base}}\n`).services[0].config.netmask).toBe(128);
    expect(parseOk(`${base} persistence_granularity 64\n}\n`).services[0].config).toMatchObject({
      netmask: 64,
      timeout: 360,
    });
  });

  test("port-0 service is made persistent (360) with a warning", () => {
    const r = parse(
      "virtual_server 192.0.2.1 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n proxy_listen 192.0.2.1 80,443\n}\n",
    );
    expect(r.config!.services[0].config).toMatchObject({ flags: SVC_F_PERSISTENT, timeout: 360 });
    expect(lines(warnings(r.diagnostics))).toContain(
      `${FILE}:1:1: warning: a port-0 (all ports) service must be persistent: persistence_timeout 360, as keepalived does`,
    );
  });

  test("flags: ops, scheduler flags", () => {
    const c = parseOk(
      "virtual_server 192.0.2.1 53 {\n lvs_sched sh\n sh-port\n ops\n lvs_method NAT\n protocol UDP\n}\n",
    ).services[0].config;
    expect(c.flags).toBe(SVC_F_ONEPACKET | SVC_F_SCHED2);
  });
});

describe("real server ports and weights (§1.6)", () => {
  const vs = (method: string, rs: string, header = "192.0.2.1 80") =>
    `virtual_server ${header} {\n lvs_sched rr\n lvs_method ${method}\n protocol TCP\n weight 4\n${rs}}\n`;

  test("NAT: a port-less real server takes the service port; an explicit port is kept", () => {
    expect(
      dests(vs("NAT", " real_server 10.0.0.1 {\n }\n real_server 10.0.0.2 8080 {\n weight 2\n }\n")),
    ).toEqual(["10.0.0.1:80 masq w4", "10.0.0.2:8080 masq w2"]);
  });

  test("DR/TUN: the port is forced to the service port, with a warning", () => {
    const text = vs("DR", " real_server 10.0.0.1 8080 {\n }\n real_server 10.0.0.2 {\n lvs_method TUN\n }\n");
    expect(dests(text)).toEqual(["10.0.0.1:80 route w4", "10.0.0.2:80 tunnel w4"]);
    expect(lines(warnings(parse(text).diagnostics))).toEqual([
      `${FILE}:6:23: warning: a DR real server cannot change the port: using the service port 80`,
    ]);
  });

  test("fwmark: NAT keeps its port (0 when none), DR clears it", () => {
    const text = vs(
      "DR",
      " proxy_listen 192.0.2.1 80\n real_server 10.0.0.1 {\n lvs_method NAT\n }\n real_server 10.0.0.2 {\n }\n real_server 10.0.0.3 8080 {\n lvs_method NAT\n }\n",
      "fwmark 5",
    );
    expect(dests(text)).toEqual(["10.0.0.1:0 masq w4", "10.0.0.2:0 route w4", "10.0.0.3:8080 masq w4"]);
  });

  test("weight defaults to 1 without a VS weight", () => {
    expect(
      dests(
        "virtual_server 192.0.2.1 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n real_server 10.0.0.1 80 {\n }\n}\n",
      ),
    ).toEqual(["10.0.0.1:80 masq w1"]);
  });

  test("TUN with gue and checksum options", () => {
    const d = parseOk(vs("TUN type gue port 6080 remcsum", " real_server 10.0.0.1 80 {\n }\n")).services[0]
      .dests[0].config;
    expect([d.forward, d.tunnelType, d.tunnelPort, d.tunnelCsum]).toEqual(["tunnel", "gue", 6080, "remcsum"]);
  });
});

describe("virtual_server_group", () => {
  const text = `virtual_server_group WEB {
    192.0.2.100 80
    192.0.2.20-22 80      # last-octet range
    198.51.100.8/31 8080
    192.0.2.50            # no port: port 0
    fwmark 7
}
virtual_server group WEB {
    lvs_sched wlc
    lvs_method NAT
    protocol TCP
    proxy_listen 192.0.2.50 443
    proxy_listen 192.0.2.99 25
    real_server 10.0.0.1 {
    }
}
`;
  test("every member becomes one service sharing the block", () => {
    expect(keys(text)).toEqual([
      "tcp:192.0.2.100:80",
      "tcp:192.0.2.20:80",
      "tcp:192.0.2.21:80",
      "tcp:192.0.2.22:80",
      "tcp:198.51.100.8:8080",
      "tcp:198.51.100.9:8080",
      "tcp:192.0.2.50:0",
      "fwm:7",
    ]);
  });

  test("port rules apply per member; listen per member kind", () => {
    const c = parseOk(text);
    expect(c.services.map((s) => s.dests[0].config.port)).toEqual([80, 80, 80, 80, 8080, 8080, 0, 0]);
    const listen = c.services.map((s) => s.listen.map((l) => `${l.addr.text}:${l.port}/${l.protocol}`));
    expect(listen[0]).toEqual(["192.0.2.100:80/tcp"]);
    expect(listen[6]).toEqual(["192.0.2.50:443/tcp"]);
    expect(listen[7]).toEqual(["192.0.2.50:443/tcp", "192.0.2.99:25/tcp"]);
    expect(c.services[6].config.timeout).toBe(360);
    expect(c.services[1].pos).toMatchObject({ line: 3, col: 5 });
  });

  test("a group too large is refused", () => {
    const r = parse("virtual_server_group BIG {\n 10.0.0.0-10.1.0.0 80\n}\n");
    expect(lines(errors(r.diagnostics))).toEqual([
      `${FILE}:1:1: error: group 'BIG' has more than 4096 members`,
    ]);
  });

  test("an unused group is a warning", () => {
    const r = parse("virtual_server_group G {\n 192.0.2.1 80\n}\n");
    expect(lines(r.diagnostics)).toEqual([
      `${FILE}:1:1: warning: virtual_server_group 'G' is not used by any virtual_server`,
    ]);
  });
});

describe("include", () => {
  test("relative to the including file, wildcards, inside blocks, positions in the included file", () => {
    const r = parse(
      "include conf.d/*.conf\nvirtual_server 192.0.2.1 80 {\n include rs.inc\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n}\n",
      {
        "/etc/uvs/conf.d/a.conf":
          "virtual_server 192.0.2.2 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n}\n",
        "/etc/uvs/conf.d/b.conf":
          "virtual_server 192.0.2.3 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n}\n",
        "/etc/uvs/rs.inc": "real_server 10.0.0.1 80 {\n  weght 3\n}\n",
        "/etc/uvs/other.conf": "bogus\n",
      },
    );
    expect(lines(errors(r.diagnostics))).toEqual([
      "/etc/uvs/rs.inc:2:3: error: unknown keyword 'weght' in real_server; did you mean 'weight'?",
    ]);
  });

  test("the included services are in the config; files are listed", () => {
    const c = parseOk("include /srv/x.conf\n", {
      "/srv/x.conf": "virtual_server 192.0.2.2 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n}\n",
    });
    expect(c.services.map((s) => `${s.pos.file}:${s.pos.line}`)).toEqual(["/srv/x.conf:1"]);
    expect(c.files).toEqual([FILE, "/srv/x.conf"]);
  });

  test("missing files: a warning for include, an error for includer; loops are errors", () => {
    const r = parse("include nothere.conf\nincluder nothere.conf\ninclude loop.conf\n", {
      "/etc/uvs/loop.conf": "include uvs.conf\n",
    });
    expect(lines(r.diagnostics)).toEqual([
      `${FILE}:1:1: warning: 'nothere.conf' matches no file`,
      `${FILE}:2:1: error: 'nothere.conf' matches no file`,
      "/etc/uvs/loop.conf:1:1: error: include loop: '/etc/uvs/uvs.conf' is already being read",
    ]);
  });
});

describe("uvs keywords", () => {
  test("proxy_listen with protocols and ranges; proxy_protocol per real server and inherited", () => {
    const c = parseOk(`virtual_server fwmark 9 {
  lvs_sched rr
  lvs_method NAT
  proxy_protocol v1
  proxy_listen 192.0.2.7 8000-8002,9000 tcp udp
  real_server 10.0.0.1 80 {
    proxy_protocol v2
  }
  real_server 10.0.0.2 80 {
  }
}
`);
    const s = c.services[0];
    expect(s.listen.map((l) => `${l.port}/${l.protocol}`)).toEqual([
      "8000/tcp",
      "8001/tcp",
      "8002/tcp",
      "9000/tcp",
      "8000/udp",
      "8001/udp",
      "8002/udp",
      "9000/udp",
    ]);
    expect(s.dests.map((d) => d.proxyProtocol)).toEqual(["v2", "v1"]);
  });
});

describe("the spec's example configurations (§1.11) parse without errors", () => {
  const dir = join(import.meta.dir, "fixtures");
  for (const f of readdirSync(dir).filter((n) => n.startsWith("spec-"))) {
    test(f, () => {
      const r = parse(readFileSync(join(dir, f), "utf8"));
      expect(lines(errors(r.diagnostics))).toEqual([]);
      expect(r.config).not.toBeNull();
    });
  }

  test("(b) keeps its sorry server and quorum; (e) expands its group", () => {
    const b = parseOk(readFileSync(join(dir, "spec-b.conf"), "utf8")).services[0];
    expect([b.sorryServer?.addr.text, b.sorryServer?.port, b.quorum]).toEqual(["198.51.100.250", 80, 2]);
    expect(b.dests.map((d) => d.checkers[0].type)).toEqual(["HTTP_GET", "HTTP_GET"]);
    expect(keys(readFileSync(join(dir, "spec-e.conf"), "utf8"))).toHaveLength(5);
  });
});
