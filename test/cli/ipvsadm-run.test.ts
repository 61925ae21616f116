/** runIpvsadm as a whole: lazy backend, kernel errors, restore semantics, help and version. */
import { describe, expect, test } from "bun:test";
import { usageText } from "../../src/cli/ipvsadm/help.ts";
import { makeNameDb } from "../../src/cli/ipvsadm/names.ts";
import { runIpvsadm } from "../../src/cli/ipvsadm/run.ts";
import { emptySnapshot } from "../../src/model/snapshot.ts";
import { run, sharedBackend } from "./helpers.ts";

const names = makeNameDb("http 80/tcp\n", "");
const HEADER = "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n";

describe("start-up", () => {
  test("-h and -v never open the backend", async () => {
    const io = (argv0: string) => ({
      argv0,
      readStdin: async () => "",
      openBackend: async () => {
        throw new Error("must not be called");
      },
    });
    const h = await runIpvsadm(["-h"], io("/sbin/ipvsadm"));
    expect(h).toEqual({ stdout: usageText("/sbin/ipvsadm"), stderr: "", code: 0 });
    expect(h.stdout).toContain("\n  /sbin/ipvsadm -Z [virtual-service]\n");
    expect(h.stdout.endsWith("  --mcast-ttl ttl                     Multicast TTL (default=1)\n")).toBe(true);
    const v = await runIpvsadm(["--version"], io("ipvsadm"));
    expect(v).toEqual({
      stdout: "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n",
      stderr: "",
      code: 0,
    });
  });

  test("a backend that cannot be opened is 'Can't initialize ipvs', exit 2", async () => {
    const r = await run(null, ["-Ln"], { initError: "Protocol not available" });
    expect(r).toEqual({
      stdout: "",
      stderr:
        "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n",
      code: 2,
    });
  });

  test("no arguments lists the table with names", async () => {
    const r = await sharedBackend(null, names)([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(HEADER);
  });
});

describe("changing commands", () => {
  test("add, list one service, delete; kernel errors exit 255 with ipvsadm's message", async () => {
    const ipvsadm = sharedBackend(null, names);
    expect((await ipvsadm(["-A", "-t", "192.0.2.1:80", "-s", "rr"])).code).toBe(0);
    expect(await ipvsadm(["-A", "-t", "192.0.2.1:80"])).toEqual({
      stdout: "",
      stderr: "Service already exists\n",
      code: 255,
    });
    expect((await ipvsadm(["-a", "-t", "192.0.2.1:80", "-r", "198.51.100.1:8080", "-m"])).code).toBe(0);
    const one = await ipvsadm(["-L", "-n", "-t", "192.0.2.1:80"]);
    expect(one.stdout).toBe(
      "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
        "TCP  192.0.2.1:80 rr\n  -> 198.51.100.1:8080            Masq    1      0          0         \n",
    );
    expect(await ipvsadm(["-e", "-t", "192.0.2.1:80", "-r", "198.51.100.9"])).toEqual({
      stdout: "",
      stderr: "No such destination\n",
      code: 255,
    });
    expect(await ipvsadm(["-a", "-t", "192.0.2.2:80", "-r", "198.51.100.9"])).toMatchObject({
      stderr: "Service not defined\n",
    });
    expect(await ipvsadm(["-E", "-t", "192.0.2.2:80"])).toMatchObject({
      stderr: "No such service\n",
      code: 255,
    });
    expect(await ipvsadm(["-a", "-t", "192.0.2.1:80", "-r", "198.51.100.2", "-y", "5"])).toMatchObject({
      stderr: "Numerical result out of range\n",
      code: 255,
    });
    expect((await ipvsadm(["-D", "-t", "192.0.2.1:80"])).code).toBe(0);
    expect(await ipvsadm(["-L", "-t", "192.0.2.1:80"])).toEqual({
      stdout: "",
      stderr: "No such service\n",
      code: 1,
    });
  });

  test("-E without -s resets the scheduler to wlc and drops persistence", async () => {
    const ipvsadm = sharedBackend(null, names);
    await ipvsadm(["-A", "-t", "192.0.2.1:80", "-s", "rr", "-p", "60"]);
    await ipvsadm(["-E", "-t", "192.0.2.1:80"]);
    expect((await ipvsadm(["-S", "-n"])).stdout).toBe("-A -t 192.0.2.1:80 -s wlc\n");
  });

  test("timeouts and daemons", async () => {
    const ipvsadm = sharedBackend(null, names);
    expect((await ipvsadm(["--set", "100", "0", "50"])).code).toBe(0);
    expect((await ipvsadm(["-L", "--timeout"])).stdout).toBe("Timeout (tcp tcpfin udp): 100 120 50\n");
    expect((await ipvsadm(["--stop-daemon", "master"])).stderr).toBe("No daemon is running\n");
  });
});

describe("-R restore", () => {
  test("lines run in order, 'ipvsadm' words dropped, listing lines print, status is the last line's", async () => {
    const ipvsadm = sharedBackend(null, names);
    const input =
      "ipvsadm -A -t 192.0.2.1:80 -s rr\r\n\n\t-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r 198.51.100.1\n-S -n\n";
    const r = await ipvsadm(["-R"], input);
    expect(r).toEqual({
      stdout: "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -g -w 1\n",
      stderr: "Service already exists\n",
      code: 0,
    });
    const failsLast = await sharedBackend(null, names)(["-R"], "-A -t 192.0.2.1:80\n-A -t 192.0.2.1:80\n");
    expect(failsLast.code).toBe(255);
  });

  test("a validation error or a comment line aborts the restore", async () => {
    const ipvsadm = sharedBackend(null, names);
    const r = await ipvsadm(["-R"], "-A -t 192.0.2.1:80\n-A -t 80\n-A -t 192.0.2.2:80\n");
    expect(r).toEqual({ stdout: "", stderr: "illegal virtual server address[:port] specified\n", code: 2 });
    expect((await ipvsadm(["-S", "-n"])).stdout).toBe("-A -t 192.0.2.1:80 -s wlc\n");
    const c = await ipvsadm(["-R"], "# comment\n-C\n");
    expect(c).toEqual({
      stdout: "",
      stderr: "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n",
      code: 255,
    });
    expect((await ipvsadm(["-R"], "-R\n")).code).toBe(255);
  });
});

describe("old kernels", () => {
  test("the version warning goes to stderr", async () => {
    const snap = {
      ...emptySnapshot(),
      ipvs_info: { version: "1.0.9", version_code: 0x010009, conn_tab_size: 4096 },
    };
    const r = await run(snap, ["-Ln"]);
    expect(r.stderr).toBe(
      "Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version 1.0.9\n  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n",
    );
    expect(r.stdout).toStartWith("IP Virtual Server version 1.0.9 (size=4096)\n");
  });
});
