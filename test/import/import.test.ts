/** `uvs import ldirectord` and `uvs import ipvsadm`: the printed rules load, and mean the same. */
import { expect, test } from "bun:test";
import { runImportCli } from "../../src/cli/import.ts";
import { destHealth, serviceHealth } from "../../src/rules/health-settings.ts";
import { parseRules } from "../../src/rules/load.ts";

async function run(args: string[], files: Record<string, string> = {}, stdin = "") {
  let out = "";
  let err = "";
  const code = await runImportCli(args, {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    readStdin: async () => stdin,
    readFile: (p) => {
      if (!(p in files)) throw new Error("no such file");
      return files[p];
    },
  });
  return { code, out, err };
}

const LD = `checktimeout=3
checkinterval=5
failurecount=2
quiescent=yes
fallback=127.0.0.1:8099 masq

virtual=192.0.2.100:80
\treal=198.51.100.11:8080 masq 3
\treal=198.51.100.20->198.51.100.22:8080 masq
\tservice=http
\tscheduler=wlc
\trequest="healthz"
\treceive="OK"

virtual=192.0.2.100:110
    real=198.51.100.31:110 masq
    login="u"   # a comment
    passwd="p"

virtual=192.0.2.100:9000
\treal=198.51.100.41:9000 masq
\tchecktype=connect
`;

test("ldirectord.cf becomes a keepalived-syntax file with the same checks and timing", async () => {
  const r = await run(["ldirectord", "/etc/ha.d/ldirectord.cf"], { "/etc/ha.d/ldirectord.cf": LD });
  expect(r.code).toBe(0);
  const loaded = parseRules("/x/imported.conf", r.out);
  expect(loaded.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const svcs = loaded.config!.services;
  expect(svcs.map((s) => `${s.config.scheduler} ${s.dests.length}`)).toEqual(["wlc 4", "wrr 1", "wrr 1"]);
  expect(svcs[0].sorryServer?.addr.text).toBe("127.0.0.1");
  const sh = serviceHealth(svcs[0]);
  expect([sh.inhibit, sh.alpha]).toEqual([true, true]); // quiescent=yes; ldirectord starts servers down
  const web = destHealth(svcs[0], svcs[0].dests[0]);
  expect(web.checks[0].type).toBe("HTTP_GET");
  expect(web.checks[0].http?.urls[0]).toMatchObject({ path: "/healthz", regex: "OK" });
  expect(web.checks[0].timing).toMatchObject({
    delayLoop: 5000,
    retry: 1,
    delayBeforeRetry: 5000,
    warmup: 0,
  });
  const pop = destHealth(svcs[1], svcs[1].dests[0]).checks[0];
  expect(pop.misc?.path).toBe("uvs health negotiate pop 198.51.100.31:110 --login 'u' --passwd 'p'");
  expect(destHealth(svcs[2], svcs[2].dests[0]).checks[0]).toMatchObject({ type: "TCP_CHECK", port: 9000 });
  expect(destHealth(svcs[2], svcs[2].dests[0]).checks[0].timing.connectTimeout).toBe(3000);
});

test("ldirectord errors are fatal, as in ldirectord: nothing is printed", async () => {
  const r = await run(["ldirectord", "f"], {
    f: "checkintervall=5\nvirtual=192.0.2.1:80\n\treal=10.0.0.1:80 bogus\n",
  });
  expect(r.code).toBe(1);
  expect(r.out).toBe("");
  expect(r.err).toContain("line 1: unknown global directive 'checkintervall'");
  expect(r.err).toContain("line 3: real= needs a method gate, masq or ipip");
});

test("values the rules file would refuse are import errors, named by their virtual, not a file that will not load", async () => {
  const r = await run(["ldirectord", "f"], {
    f: "virtual=192.0.2.1:80\n\treal=10.0.0.1:80 gate\n\tscheduler=bogus\n\n virtual=192.0.2.1:81\n\treal=10.0.0.1:81 masq\n\tpersistent=forever\n",
  });
  expect(r.code).toBe(1);
  expect(r.out).toBe("");
  expect(r.err).toContain("uvs import ldirectord: error: virtual at line 1: unknown scheduler 'bogus'\n");
  expect(r.err).toMatch(/error: virtual at line 5: invalid persistence timeout 'forever'/);
});

test("ipvsadm save format on stdin becomes virtual_server blocks", async () => {
  const save =
    "-A -t 192.0.2.1:80 -s wrr -p 300\n-a -t 192.0.2.1:80 -r 10.0.0.1:8080 -m -w 3\n-a -t 192.0.2.1:80 -r 10.0.0.2:8080 -m -w 1\n-A -u 192.0.2.1:53 -s rr\n-a -u 192.0.2.1:53 -r 10.0.0.9:53 -m -w 1\n";
  const r = await run(["ipvsadm"], {}, save);
  expect(r.code).toBe(0);
  const loaded = parseRules("/x/imported.conf", r.out);
  const svcs = loaded.config!.services;
  expect(
    svcs.map((s) => [s.id.kind === "addr" && s.id.protocol, s.config.scheduler, s.config.timeout]),
  ).toEqual([
    ["tcp", "wrr", 300],
    ["udp", "rr", 0],
  ]);
  expect(
    svcs[0].dests.map((d) => `${d.config.addr.text}:${d.config.port}/${d.config.weight}/${d.config.forward}`),
  ).toEqual(["10.0.0.1:8080/3/masq", "10.0.0.2:8080/1/masq"]);
});

test("usage errors exit 2", async () => {
  expect((await run(["nginx"])).code).toBe(2);
  expect((await run(["ldirectord"])).code).toBe(2);
});
