/**
 * The report, line by line, against real ApacheBench 2.3 on the same server: same lines in the
 * same order with the same field names; counts equal; timings within a tolerance.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { runBenchCli } from "../../src/cli/bench.ts";
import { okAnswer, rawServer, type SeenRequest } from "./servers.ts";

const AB = Bun.which("ab");
const skipMsg = "ab (Debian package apache2-utils) is not installed: skipping the ab comparison";
if (!AB) console.warn(skipMsg);

async function ab(args: string[]): Promise<{ out: string; err: string }> {
  const p = Bun.spawn([AB!, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  return { out, err };
}

async function uvs(args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = "";
  let err = "";
  const code = await runBenchCli(args, { out: (s) => (out += s), err: (s) => (err += s), tty: false });
  return { out, err, code };
}

/** ab's report lines, without the reliability warnings (they depend on the timings). */
function reportLines(text: string): string[] {
  const from = text.indexOf("Server Software:");
  const lines = text.slice(from).split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith("Latency tail")) break;
    if (/^(WARNING|ERROR): The median/.test(lines[i])) {
      i++; // and its second line
      continue;
    }
    out.push(lines[i]);
  }
  while (out.length && out[out.length - 1] === "") out.pop();
  return out;
}

/**
 * The label of a line: up to its first colon, or the shape of a table row with its numbers (and
 * the padding before them, which depends on how many digits a time has) folded to "#".
 */
const label = (l: string): string =>
  l.includes(":") ? l.slice(0, l.indexOf(":") + 1) : l.replace(/ *[\d.]+/g, " #");
const value = (l: string): string => (l.includes(":") ? l.slice(l.indexOf(":") + 1).trim() : l);
const EXACT = [
  "Server Software:",
  "Server Hostname:",
  "Server Port:",
  "Document Path:",
  "Document Length:",
  "Concurrency Level:",
  "Complete requests:",
  "Failed requests:",
  "   (Connect:",
  "Non-2xx responses:",
  "Keep-Alive requests:",
  "Total transferred:",
  "HTML transferred:",
];

function compare(abText: string, uvsText: string): void {
  const a = reportLines(abText);
  const u = reportLines(uvsText);
  expect(u.map(label)).toEqual(a.map(label));
  for (let i = 0; i < a.length; i++) {
    const l = label(a[i]);
    if (EXACT.includes(l)) expect(`${l} ${value(u[i])}`).toBe(`${l} ${value(a[i])}`);
    else if (/^(Connect|Processing|Waiting|Total):/.test(l)) {
      // min mean sd median max, ms: both runs on loopback stay within a few ms; the spread and
      // the maximum follow one scheduling hiccup of a shared machine, so they get more room.
      const an = value(a[i]).split(/\s+/).map(Number);
      const un = value(u[i]).split(/\s+/).map(Number);
      expect(un.length).toBe(an.length);
      for (let k = 0; k < an.length; k++) {
        const room = k === 2 || k === an.length - 1 ? 250 : 25;
        expect(Math.abs(un[k] - an[k])).toBeLessThanOrEqual(room);
      }
    } else if (l === "Requests per second:") {
      const ar = Number.parseFloat(value(a[i]));
      const ur = Number.parseFloat(value(u[i]));
      expect(ur).toBeGreaterThan(ar / 20);
      expect(ur).toBeLessThan(ar * 20);
    }
  }
}

const server = rawServer(okAnswer("<html>a small page</html>\n"));
const mixed = rawServer((req: SeenRequest, i: number) =>
  okAnswer(i % 5 === 4 ? "other length" : "hello", "", i % 2 ? "500 Oops" : "200 OK")(req),
);
afterAll(() => {
  server.stop();
  mixed.stop();
});

describe.skipIf(!AB)("report structure equals ab 2.3's for the same run", () => {
  for (const flags of [[], ["-k"], ["-S", "-d"], ["-k", "-l"]]) {
    test(`ab ${flags.join(" ")} -n 400 -c 4`, async () => {
      const args = [...flags, "-n", "400", "-c", "4", server.url("/page.html")];
      const a = await ab(args);
      const u = await uvs(args);
      expect(u.code).toBe(0);
      compare(a.out, u.out);
      // not on a terminal: the same "Completed N requests" lines as ab, at the same cadence
      expect(u.err).toBe(a.err);
    });
  }

  test("failures, non-2xx and length errors: the same lines and the same counts", async () => {
    const args = ["-k", "-n", "100", "-c", "1", mixed.url("/")];
    const a = await ab(args);
    const u = await uvs(args);
    expect(a.out).toContain("Non-2xx responses:      50");
    compare(a.out, u.out);
  });

  test("POST: Total body sent and the sent/total transfer lines", async () => {
    const file = `${process.env.TMPDIR ?? "/tmp"}/uvs-bench-post-${process.pid}.txt`;
    await Bun.write(file, "k=v&".repeat(100));
    const args = [
      "-p",
      file,
      "-T",
      "application/x-www-form-urlencoded",
      "-n",
      "50",
      "-c",
      "2",
      server.url("/"),
    ];
    const a = await ab(args);
    const u = await uvs(args);
    expect(u.out).toMatch(/\n {24}[\d.]+ kb\/s sent\n {24}[\d.]+ kb\/s total\n/);
    expect(reportLines(u.out).map(label)).toEqual(reportLines(a.out).map(label));
  });

  test("-e and -g files have ab's header and shape", async () => {
    const dir = process.env.TMPDIR ?? "/tmp";
    const base = `${dir}/uvs-bench-${process.pid}`;
    await ab(["-q", "-n", "200", "-c", "2", "-e", `${base}-ab.csv`, "-g", `${base}-ab.tsv`, server.url("/")]);
    await uvs(["-q", "-n", "200", "-c", "2", "-e", `${base}-u.csv`, "-g", `${base}-u.tsv`, server.url("/")]);
    const [ac, uc, at, ut] = await Promise.all(
      ["ab.csv", "u.csv", "ab.tsv", "u.tsv"].map((f) => Bun.file(`${base}-${f}`).text()),
    );
    expect(uc.split("\n").length).toBe(ac.split("\n").length);
    expect(uc.split("\n")[0]).toBe(ac.split("\n")[0]);
    expect(uc.split("\n").map((l) => l.split(",")[0])).toEqual(ac.split("\n").map((l) => l.split(",")[0]));
    expect(ut.split("\n").length).toBe(at.split("\n").length);
    expect(ut.split("\n")[0]).toBe(at.split("\n")[0]);
    const shape = (l: string) => l.replace(/\d+/g, "#").replace(/^[A-Z][a-z]{2} [A-Z][a-z]{2}/, "D M");
    expect(shape(ut.split("\n")[1])).toBe(shape(at.split("\n")[1]));
  });
});

describe("uvs bench command line", () => {
  test("usage errors exit 22 with ab's message; -h prints the usage", async () => {
    const u = await uvs(["-n", "1", "-c", "5", server.url("/")]);
    expect(u.code).toBe(22);
    expect(u.err).toContain("Cannot use concurrency level greater than total number of requests");
    expect((await uvs(["-w", server.url("/")])).err).toContain("not supported");
    expect((await uvs(["-h"])).err).toContain("Usage: uvs bench [options]");
  });

  test("uvs's additions follow ab's report: HDR tail, errors by kind, real servers", async () => {
    const u = await uvs(["-q", "-n", "20", "-c", "2", "--server-body", mixed.url("/")]);
    expect(u.out).toMatch(/\nLatency tail \(HDR histogram, ms\)\n {2}99\.9% +[\d.]+\n 99\.99% +[\d.]+\n/);
    expect(u.out).toContain("\nErrors by kind\n  length");
    expect(u.out).toMatch(/Responses by real server \(body\)\n {2}hello +\d+ +\d+\.\d%/);
    const refused = await uvs(["-q", "-n", "5", "-c", "1", "http://127.0.0.1:1/"]);
    expect(refused.out).toContain("   (Connect: 5, Receive: 0, Length: 0, Exceptions: 0)");
    expect(refused.out).toContain("  refused                      5");
  });

  test("on a terminal: a live progress line, then Finished", async () => {
    let err = "";
    const code = await runBenchCli(["-k", "-t", "0.5", "-c", "2", server.url("/")], {
      out: () => {},
      err: (t) => (err += t),
      tty: true,
    });
    expect(code).toBe(0);
    expect(err).toMatch(/\r\x1b\[K\d+ done {2}\d+ req\/s {2}0 errors {2}0\.\d s/);
    expect(err).not.toContain("Completed");
    expect(err).toMatch(/Finished \d+ requests\n$/);
  });

  test("Ctrl-C prints the report of what was done", async () => {
    const main = `${import.meta.dir}/../../src/cli/bench.ts`;
    const code = `const { runBenchCli } = await import(${JSON.stringify(main)}); process.exit(await runBenchCli(["-k", "-n", "100000000", "-c", "2", ${JSON.stringify(server.url("/"))}]));`;
    const p = Bun.spawn([process.execPath, "-e", code], { stdout: "pipe", stderr: "pipe" });
    await Bun.sleep(1200);
    p.kill("SIGINT");
    const out = await new Response(p.stdout).text();
    expect(await p.exited).toBe(1);
    expect(out).toContain("Complete requests:");
    expect(out).toContain("Interrupted: the report covers the requests done before the stop.");
    expect(Number(/Complete requests: +(\d+)/.exec(out)?.[1])).toBeGreaterThan(0);
  });
});
