/** Table-driven checks of ipvsadm's command-line grammar: every message and exit code of §1. */
import { describe, expect, test } from "bun:test";
import type { Command } from "../../src/cli/ipvsadm/command.ts";
import { makeNameDb } from "../../src/cli/ipvsadm/names.ts";
import { parseArgs } from "../../src/cli/ipvsadm/parse.ts";

const SERVICES = "http 80/tcp www\nhttp 80/udp\ndomain 53/udp\nmyapp 9000/tcp\nsctpsvc 3868/sctp\n";
const HOSTS = "192.0.2.77 web.example web\n2001:db8::5 six.example\n";
const names = makeNameDb(SERVICES, HOSTS);
const TRY = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n";

function parse(args: string[], readingStdin = false) {
  return parseArgs(args, { argv0: "ipvsadm", names, readingStdin });
}

function command(args: string[]): Command {
  const r = parse(args);
  if (r.kind !== "command") throw new Error(`expected a command, got ${JSON.stringify(r)}`);
  return r.command;
}

const errorCases: [string, string[], string, number][] = [
  // popt and "first option must be a command"
  ["no command first", ["-n", "-L"], TRY, 255],
  ["only arguments", ["foo"], TRY, 255],
  ["unknown first option", ["--foo"], TRY, 255],
  ["-nL bundle starts with an option", ["-nL"], TRY, 255],
  ["unknown long option", ["-L", "--foo"], "--foo: unknown option\n", 255],
  ["unknown short in bundle", ["-L", "-nq"], "-nq: unknown option\n", 255],
  ["missing argument", ["-A", "-t"], "-t: missing argument\n", 255],
  ["missing argument in bundle", ["-At"], "-At: missing argument\n", 255],
  ["unwanted argument", ["-L", "--numeric=1"], "--numeric=1: option does not take an argument\n", 255],
  ["unwanted argument short", ["-L", "-n=1"], "-n=1: option does not take an argument\n", 255],
  ["restore inside restore", ["-R"], TRY, 255],
  // the loop: commands after the first, duplicates
  ["second command", ["-L", "-Z"], "invalid option `-Z'\n", 2],
  ["command bundled", ["-LZ"], "invalid option `-LZ'\n", 2],
  ["help after command", ["-L", "-h"], "invalid option `-h'\n", 2],
  ["bad word is the last consumed", ["-A", "--start-daemon", "master"], "invalid option `master'\n", 2],
  ["duplicate option", ["-L", "-n", "-n"], "multiple 'numeric' options specified\n", 2],
  [
    "duplicate service",
    ["-A", "-t", "1.2.3.4:80", "-f", "1"],
    "multiple 'service-address' options specified\n",
    2,
  ],
  [
    "duplicate forward",
    ["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", "-m", "-g"],
    "multiple 'forwarding-method' options specified\n",
    2,
  ],
  // per-option values
  ["digits only service", ["-A", "-t", "80"], "illegal virtual server address[:port] specified\n", 2],
  ["bad port", ["-A", "-t", "1.2.3.4:65536"], "illegal virtual server address[:port] specified\n", 2],
  [
    "unknown port name",
    ["-A", "-t", "1.2.3.4:nosuch"],
    "illegal virtual server address[:port] specified\n",
    2,
  ],
  [
    "udp name with tcp",
    ["-A", "-t", "1.2.3.4:domain"],
    "illegal virtual server address[:port] specified\n",
    2,
  ],
  [
    "bracket without port",
    ["-A", "-t", "[2001:db8::1]"],
    "illegal virtual server address[:port] specified\n",
    2,
  ],
  [
    "bracket empty port",
    ["-A", "-t", "[2001:db8::1]:"],
    "illegal virtual server address[:port] specified\n",
    2,
  ],
  ["unknown host", ["-A", "-t", "nohost:80"], "illegal virtual server address[:port] specified\n", 2],
  [
    "bad real server",
    ["-a", "-t", "1.2.3.4:80", "-r", "x..y"],
    "illegal real server address[:port] specified\n",
    2,
  ],
  ["fwmark zero", ["-A", "-f", "0"], "invalid fwmark value `0' specified\n", 2],
  ["fwmark too big", ["-A", "-f", "4294967296"], "invalid fwmark value `4294967296' specified\n", 2],
  ["fwmark negative", ["-A", "-f", "-1"], "invalid fwmark value `-1' specified\n", 2],
  ["fwmark junk", ["-A", "-f", "1x"], "invalid fwmark value `1x' specified\n", 2],
  ["-6 before -f", ["-A", "-6", "-f", "1"], "-6 used before -f\n\n", 2],
  ["persistent zero", ["-A", "-t", "1.2.3.4:80", "-p", "0"], "invalid timeout value `0' specified\n", 2],
  [
    "persistent too long",
    ["-A", "-t", "1.2.3.4:80", "-p2678401"],
    "invalid timeout value `2678401' specified\n",
    2,
  ],
  ["persistent attached junk", ["-A", "-t", "1.2.3.4:80", "-pn"], "invalid timeout value `n' specified\n", 2],
  [
    "bad v4 mask",
    ["-A", "-t", "1.2.3.4:80", "-M", "1.2.3.4.5"],
    "illegal virtual server persistent mask specified\n",
    2,
  ],
  ["bad v6 mask", ["-A", "-t", "[::1]:80", "-M", "0"], "illegal ipv6 netmask specified\n", 2],
  [
    "weight range",
    ["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", "-w", "65536"],
    "illegal weight specified\n",
    2,
  ],
  ["weight junk", ["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", "-w", "1a"], "illegal weight specified\n", 2],
  [
    "u threshold",
    ["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", "-x", "2147483648"],
    "illegal u_threshold specified\n",
    2,
  ],
  [
    "l threshold",
    ["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", "-y", "-1"],
    "illegal l_threshold specified\n",
    2,
  ],
  [
    "tun type",
    ["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", "--tun-type", "vxlan"],
    "illegal tunnel type specified\n",
    2,
  ],
  [
    "tun port",
    ["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", "--tun-port", "0"],
    "illegal tunnel port specified\n",
    2,
  ],
  ["syncid", ["--start-daemon", "master", "--syncid", "256"], "illegal syncid specified\n", 2],
  [
    "mcast group v4",
    ["--start-daemon", "master", "--mcast-group", "10.0.0.1"],
    "invalid IPv4 mcast-group `10.0.0.1'\n",
    2,
  ],
  [
    "mcast group v6",
    ["--start-daemon", "master", "--mcast-group", "2001:db8::1"],
    "invalid IPv6 mcast-group `2001:db8::1'\n",
    2,
  ],
  ["mcast port", ["--start-daemon", "master", "--mcast-port", "0"], "illegal mcast-port specified\n", 2],
  ["mcast ttl", ["--start-daemon", "master", "--mcast-ttl", "256"], "illegal mcast-ttl specified\n", 2],
  [
    "sync maxlen",
    ["--start-daemon", "master", "--sync-maxlen", "65508"],
    "illegal sync-maxlen specified\n",
    2,
  ],
  ["start-daemon state", ["--start-daemon", "primary"], "illegal start-daemon parameter specified\n", 2],
  ["stop-daemon state", ["--stop-daemon", "x"], "illegal start_daemon specified\n", 2],
  // leftovers and --set
  ["set needs three", ["--set", "1", "2"], "--set option requires 3 timeout values\n", 2],
  ["set bad value", ["--set", "1", "x", "3"], "invalid timeout value `x' specified\n", 2],
  ["set out of range", ["--set", "1", "2", "2678401"], "invalid timeout value `2678401' specified\n", 2],
  ["set extra", ["--set", "1", "2", "3", "4"], "unexpected argument 4\n", 2],
  ["unexpected", ["-L", "extra"], "unexpected argument extra\n", 2],
  ["after --", ["-L", "--", "-n"], "unexpected argument -n\n", 2],
  // scheduler flags (before the option table)
  ["invalid sched flag", ["-A", "-t", "1.2.3.4:80", "-b", "flag-4"], "invalid scheduler flag `flag-4'\n", 2],
  [
    "sh flag with wlc",
    ["-A", "-t", "1.2.3.4:80", "-b", "sh-port"],
    "incompatible scheduler flag `sh-port'\n",
    2,
  ],
  [
    "mh flag with sh",
    ["-A", "-t", "1.2.3.4:80", "-s", "sh", "-b", "mh-port"],
    "incompatible scheduler flag `mh-port'\n",
    2,
  ],
  ["sched flags before table", ["-L", "-b", "nope"], "invalid scheduler flag `nope'\n", 2],
  [
    "an Object method's name",
    ["-A", "-t", "1.2.3.4:80", "-b", "toString"],
    "invalid scheduler flag `toString'\n",
    2,
  ],
  // command × option table, in option-index order
  [
    "need service",
    ["-A", "-s", "rr"],
    "You need to supply the 'service-address' option for the 'add-service' command\n",
    2,
  ],
  [
    "need real server",
    ["-a", "-t", "1.2.3.4:80"],
    "You need to supply the 'real-server' option for the 'add-server' command\n",
    2,
  ],
  ["illegal for list", ["-L", "-w", "3"], "Illegal 'weight' option with the 'list' command\n", 2],
  [
    "illegal numeric for add",
    ["-A", "-n", "-t", "1.2.3.4:80"],
    "Illegal 'numeric' option with the 'add-service' command\n",
    2,
  ],
  [
    "index order wins",
    ["-D", "-s", "rr"],
    "You need to supply the 'service-address' option for the 'delete-service' command\n",
    2,
  ],
  ["flush takes nothing", ["-C", "-n"], "Illegal 'numeric' option with the 'flush' command\n", 2],
  [
    "list exclusive",
    ["-L", "-c", "--timeout"],
    "The option 'timeout' conflicts with the 'connection' option in the 'list' command\n",
    2,
  ],
  [
    "list exclusive 2",
    ["-L", "--daemon", "-t", "1.2.3.4:80"],
    "The option 'daemon' conflicts with the 'service-address' option in the 'list' command\n",
    2,
  ],
  ["save with stats", ["-S", "--stats"], "Illegal 'stats' option with the 'save' command\n", 2],
  ["list conflicts", ["-L", "-c", "--stats"], "options conflicts in the list command\n", 2],
  ["list conflicts 2", ["-L", "--daemon", "--persistent-conn"], "options conflicts in the list command\n", 2],
  // -A/-E and -a/-e consistency
  ["zero port", ["-A", "-t", "1.2.3.4"], "Zero port specified for non-persistent service\n", 2],
  ["zero port edit", ["-E", "-t", "1.2.3.4:0"], "Zero port specified for non-persistent service\n", 2],
  [
    "ops on tcp",
    ["-A", "-t", "1.2.3.4:80", "-o"],
    "One-Packet Scheduling is only for UDP virtual services\n",
    2,
  ],
  [
    "family mix",
    ["-a", "-t", "1.2.3.4:80", "-r", "2001:db8::1", "-m"],
    "Different address family is allowed only for tunneling servers\n",
    2,
  ],
  [
    "tun opts without tunnel",
    ["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", "--tun-type", "gue"],
    "Tunnel options conflict with forward method\n",
    2,
  ],
  [
    "ipip csum",
    ["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", "-i", "--tun-csum"],
    "Illegal 'tun-csum' option with the 'ipip' tunnel type\n",
    2,
  ],
  [
    "gue needs port",
    ["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", "-i", "--tun-type", "gue"],
    "You need to supply the 'tun-port' option for the 'gue' tunnel type\n",
    2,
  ],
  [
    "gue csum exclusive",
    [
      "-a",
      "-t",
      "1.2.3.4:80",
      "-r",
      "1.2.3.5",
      "-i",
      "--tun-type",
      "gue",
      "--tun-port",
      "5",
      "--tun-csum",
      "--tun-remcsum",
    ],
    "The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gue' tunnel type\n",
    2,
  ],
  [
    "gre remcsum",
    ["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", "-i", "--tun-type", "gre", "--tun-remcsum"],
    "Illegal 'tun-remcsum' option with the 'gre' tunnel type\n",
    2,
  ],
];

describe("ipvsadm argument errors", () => {
  for (const [name, args, message, code] of errorCases) {
    test(`${name}: ${args.join(" ")}`, () => {
      const readingStdin = name === "restore inside restore";
      expect(parse(args, readingStdin)).toEqual({ kind: "error", message, exitCode: code });
    });
  }
});

describe("ipvsadm accepted command lines", () => {
  test("help and version stop parsing at once", () => {
    expect(parse(["-h", "--bogus"]).kind).toBe("help");
    expect(parse(["--version", "junk"]).kind).toBe("version");
  });

  test("bundled list options and attached arguments", () => {
    const ce = command(["-Ln", "--stats", "--exact", "--sort", "--sort"]);
    expect(ce.cmd).toBe("list");
    expect(ce.format).toMatchObject({ numeric: true, stats: true, exact: true });
    const a = command(["-At", "192.0.2.1:80", "-p600", "-srr"]);
    expect(a.svc).toMatchObject({ port: 80, timeout: 600, flags: 1, schedName: "rr" });
  });

  test("-p takes an optional argument only if it does not start with '-'", () => {
    expect(command(["-A", "-t", "1.2.3.4:80", "-p", "-s", "rr"]).svc).toMatchObject({
      timeout: 360,
      schedName: "rr",
    });
    expect(command(["-A", "-t", "1.2.3.4:80", "-p"]).svc.timeout).toBe(360);
    expect(command(["-A", "-t", "1.2.3.4:80", "--persistent=90"]).svc.timeout).toBe(90);
    expect(command(["-A", "-t", "1.2.3.4:80", "-p", "120"]).svc.timeout).toBe(120);
  });

  test("required arguments take the next word even if it starts with '-'", () => {
    expect(command(["-A", "-t", "1.2.3.4:80", "-s", "-x"]).svc.schedName).toBe("-x");
    expect(command(["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", "-w=7"]).dest.weight).toBe(7);
  });

  test("defaults: wlc scheduler, route forwarding, dest port forced for -g/-i", () => {
    expect(command(["-A", "-t", "1.2.3.4:80"]).svc.schedName).toBe("wlc");
    const ce = command(["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5:8080"]);
    expect(ce.dest).toMatchObject({ forward: "route", port: 80, weight: 1 });
    expect(command(["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5:8080", "-m"]).dest.port).toBe(8080);
    expect(command(["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", "-m"]).dest.port).toBe(80);
    expect(command(["-a", "-f", "5", "-r", "1.2.3.5:8080", "-g"]).dest.port).toBe(8080);
  });

  test("addresses: IPv6 brackets, legacy IPv4, hosts and service names", () => {
    const v6 = command(["-A", "-u", "[2001:db8::1]:domain"]).svc;
    expect(v6).toMatchObject({ af: "inet6", port: 53, netmask: 128 });
    expect(v6.addr?.text).toBe("2001:db8::1");
    const bare = command(["-A", "-t", "2001:db8::1:80", "-p"]).svc;
    expect(bare).toMatchObject({ af: "inet6", port: 0 });
    expect(command(["-A", "-t", "10.1:www"]).svc.addr?.text).toBe("10.0.0.1");
    expect(command(["-A", "-t", "web:myapp"]).svc).toMatchObject({ port: 9000 });
    expect(command(["-A", "-t", "WEB.example:80"]).svc.addr?.text).toBe("192.0.2.77");
    expect(command(["-A", "--sctp-service", "1.2.3.4:sctpsvc"]).svc).toMatchObject({
      protocol: 132,
      port: 3868,
    });
    // [IPv4]:port loses its port (the bracket branch already consumed the ':')
    expect(command(["-A", "-t", "[1.2.3.4]:80", "-p"]).svc.port).toBe(0);
  });

  test("fwmark, -6 and masks", () => {
    const f = command(["-A", "-f", "4294967295", "-6", "-6", "-p", "-M", "64"]).svc;
    expect(f).toMatchObject({ fwmark: 4294967295, af: "inet6", netmask: 64 });
    expect(command(["-A", "-f", " +7"]).svc.fwmark).toBe(7);
    expect(command(["-A", "-t", "1.2.3.4:80", "-p", "-M", "255.255.0.0"]).svc.netmask).toBe(0xffff0000);
  });

  test("scheduler flags and names", () => {
    expect(command(["-A", "-t", "1.2.3.4:80", "-s", "sh", "-b", "sh-fallback,,sh-port"]).svc.flags).toBe(
      0x18,
    );
    expect(command(["-A", "-t", "1.2.3.4:80", "-b", "flag-3"]).svc.flags).toBe(0x20);
    expect(command(["-A", "-t", "1.2.3.4:80", "-s", "a-very-long-scheduler-name"]).svc.schedName).toBe(
      "a-very-long-sch",
    );
  });

  test("--set values and daemons", () => {
    expect(command(["--set", "10", "0", "30"]).timeouts).toEqual({ tcp: 10, tcpfin: 0, udp: 30 });
    const d = command(["--start-daemon", "backup", "--mcast-group", "ff05::db8:0:1", "--syncid", "9"]).daemon;
    expect(d).toMatchObject({ state: "backup", syncid: 9 });
    expect(d.group?.af).toBe("inet6");
  });

  test("tunnel options", () => {
    const ce = command([
      "-a",
      "-t",
      "1.2.3.4:80",
      "-r",
      "1.2.3.5",
      "-i",
      "--tun-type",
      "gue",
      "--tun-port",
      "6080",
      "--tun-remcsum",
    ]);
    expect(ce.dest).toMatchObject({ forward: "tunnel", tunType: "gue", tunPort: 6080, tunFlags: 2 });
    expect(command(["-a", "-t", "1.2.3.4:80", "-r", "2001:db8::1", "-i"]).dest.af).toBe("inet6");
  });
});
