/**
 * `uvs bench` command line: ab 2.3's options (getopt style: -n100, -n 100, -kq) plus uvs's
 * long options. Produces BenchOptions and the CLI-only settings (files, verbosity, quiet).
 */
import type { BenchOptions } from "./api.ts";

export interface CliSettings {
  opts: BenchOptions;
  quiet: boolean; // -q
  verbosity: number; // -v
  csvFile?: string; // -e
  gnuplotFile?: string; // -g
  bodyFile?: string; // -p / -u
  help: boolean;
  version: boolean;
}

export const BENCH_USAGE = `Usage: uvs bench [options] [http[s]://]hostname[:port]/path
Options are (ab 2.3's, then uvs's):
    -n requests     Number of requests to perform
    -c concurrency  Number of multiple requests to make at a time
    -t timelimit    Seconds to max. to spend on benchmarking
                    This implies -n 50000
    -s timeout      Seconds to max. wait for each response
                    Default is 30 seconds
    -p postfile     File containing data to POST. Remember also to set -T
    -u putfile      File containing data to PUT. Remember also to set -T
    -T content-type Content-type header to use for POST/PUT data, eg.
                    'application/x-www-form-urlencoded'
                    Default is 'text/plain'
    -v verbosity    How much troubleshooting info to print
    -i              Use HEAD instead of GET
    -C attribute    Add cookie, eg. 'Apache=1234'. (repeatable)
    -H attribute    Add Arbitrary header line, eg. 'Accept-Encoding: gzip'
                    Inserted after all normal header lines. (repeatable)
    -A attribute    Add Basic WWW Authentication, the attributes
                    are a colon separated username and password.
    -V              Print version number and exit
    -k              Use HTTP KeepAlive feature
    -d              Do not show percentiles served table.
    -S              Do not show confidence estimators and warnings.
    -q              Do not show progress when doing more than 150 requests
    -l              Accept variable document length (use this for dynamic pages)
    -g filename     Output collected data to gnuplot format file.
    -e filename     Output CSV file with percentages served
    -r              Don't exit on socket receive errors (uvs never does).
    -m method       Method name
    -h              Display usage information (this message)
    --mode MODE     http (default), tcp-connect (new connections/s, "CPS"),
                    udp (datagrams with a reply/s, "PPS")
    --payload N     L4 modes: bytes sent per connection (tcp-connect, default 0)
                    or per datagram (udp, default 64)
    --server-header NAME  count responses per real server named by header NAME
    --server-body   count responses per real server named by the body's first line
    --engine E      HTTP sockets: ffi (libc and epoll; the default on Linux)
                    or bun (Bun.connect; the default elsewhere)
`;

const WITH_VALUE = new Set("nctsTpuvCHAgem".split(""));
const FLAGS = new Set("lrkVhidSq".split(""));
const UNSUPPORTED = new Set("bBwxyzPXZfEI".split(""));

interface Acc {
  s: CliSettings;
  nGiven: boolean;
  cookies: string[];
  extra: [string, string][];
  url?: string;
}

/** Parse argv (after "bench"). Returns settings or an error message for stderr. */
export function parseBenchArgs(args: string[]): CliSettings | string {
  const acc: Acc = {
    s: {
      opts: { url: "", requests: 1, concurrency: 1, keepAlive: false },
      quiet: false,
      verbosity: 0,
      help: false,
      version: false,
    },
    nGiven: false,
    cookies: [],
    extra: [],
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("--") && a.length > 2) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const takes = name === "mode" || name === "payload" || name === "server-header" || name === "engine";
      let v: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
      if (takes && v === undefined) v = args[++i];
      const bad = long(acc, name, v, takes);
      if (bad) return bad;
    } else if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        if (WITH_VALUE.has(c)) {
          const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
          if (v === undefined) return `option requires an argument -- ${c}`;
          const bad = short(acc, c, v);
          if (bad) return bad;
          break;
        }
        if (UNSUPPORTED.has(c)) return `option -${c} is not supported by uvs bench`;
        if (!FLAGS.has(c)) return `illegal option -- ${c}`;
        flag(acc, c);
      }
    } else {
      if (acc.url !== undefined) return "wrong number of arguments";
      acc.url = a;
    }
  }
  return finish(acc);
}

function flag(acc: Acc, c: string): void {
  const o = acc.s.opts;
  if (c === "k") o.keepAlive = true;
  else if (c === "q") acc.s.quiet = true;
  else if (c === "i")
    o.method = "HEAD"; // ab refuses to mix it with -p/-u; the last one wins here
  else if (c === "l") o.variableLength = true;
  else if (c === "d") o.percentiles = false;
  else if (c === "S") o.confidence = false;
  else if (c === "h") acc.s.help = true;
  else if (c === "V") acc.s.version = true;
  // -r: uvs counts receive errors and goes on, always
}

function positiveInt(v: string): number {
  return /^\d+$/.test(v) ? Number(v) : Number.NaN;
}

function short(acc: Acc, c: string, v: string): string | null {
  const o = acc.s.opts;
  switch (c) {
    case "n":
      o.requests = positiveInt(v);
      acc.nGiven = true;
      if (!(o.requests > 0)) return "Invalid number of requests";
      return null;
    case "c":
      o.concurrency = positiveInt(v);
      return o.concurrency > 0 ? null : "Invalid Concurrency [Range 1..20000]";
    case "t":
      o.timeLimitS = Number(v);
      return o.timeLimitS > 0 ? null : "Invalid time limit";
    case "s":
      o.timeoutS = Number(v);
      return o.timeoutS > 0 ? null : "Invalid timeout";
    case "p":
    case "u":
      if (o.method) return `Cannot mix ${c === "p" ? "POST" : "PUT"} with other methods`;
      acc.s.bodyFile = v;
      o.method = c === "p" ? "POST" : "PUT";
      return null;
    case "T":
      o.contentType = v;
      return null;
    case "v":
      acc.s.verbosity = Number(v) || 0;
      return null;
    case "C":
      acc.cookies.push(v);
      return null;
    case "H": {
      const colon = v.indexOf(":");
      if (colon <= 0) return `-H ${JSON.stringify(v)}: a header is "Name: value"`;
      acc.extra.push([v.slice(0, colon).trim(), v.slice(colon + 1).trim()]);
      return null;
    }
    case "A":
      acc.extra.unshift(["Authorization", `Basic ${Buffer.from(v.trimStart()).toString("base64")}`]);
      return null;
    case "g":
      acc.s.gnuplotFile = v;
      return null;
    case "e":
      acc.s.csvFile = v;
      return null;
    default: // m
      if (!/^[A-Za-z!#$%&'*+.^_`|~0-9-]+$/.test(v)) return `invalid method ${JSON.stringify(v)}`;
      o.method = v;
      return null;
  }
}

function long(acc: Acc, name: string, v: string | undefined, takes: boolean): string | null {
  const o = acc.s.opts;
  if (takes && v === undefined) return `--${name} needs a value`;
  if (name === "mode") {
    if (v !== "http" && v !== "tcp-connect" && v !== "udp")
      return `--mode: ${v}: use http, tcp-connect or udp`;
    o.mode = v;
  } else if (name === "engine") {
    if (v !== "bun" && v !== "ffi") return `--engine: ${v}: use ffi (libc sockets and epoll, Linux) or bun`;
    o.engine = v;
  } else if (name === "payload") {
    o.payloadBytes = positiveInt(v!);
    if (!(o.payloadBytes >= 0) || o.payloadBytes > 65000) return `--payload: ${v}: a byte count up to 65000`;
  } else if (name === "server-header") o.serverHeader = v;
  else if (name === "server-body") o.serverFromBody = true;
  else if (name === "help") acc.s.help = true;
  else return `unknown option --${name}`;
  return null;
}

function finish(acc: Acc): CliSettings | string {
  const s = acc.s;
  const o = s.opts;
  if (s.help || s.version) return s;
  if (acc.url === undefined) return "wrong number of arguments";
  // L4 modes have no path: accept host:port alone
  o.url =
    o.mode && o.mode !== "http" && !acc.url.replace(/^\w+:\/\//, "").includes("/") ? `${acc.url}/` : acc.url;
  if (o.timeLimitS && !acc.nGiven) o.requests = 50000;
  if (o.concurrency > o.requests) return "Cannot use concurrency level greater than total number of requests";
  if (acc.cookies.length) acc.extra.unshift(["Cookie", acc.cookies.join("; ")]);
  if (acc.extra.length) o.headers = acc.extra;
  return s;
}

/** Read the -p/-u file into the options (kept out of parsing so parsing stays pure). */
export async function loadBody(s: CliSettings): Promise<string | null> {
  if (!s.bodyFile) return null;
  try {
    s.opts.body = new Uint8Array(await Bun.file(s.bodyFile).arrayBuffer());
    return null;
  } catch (e) {
    return `Could not open POST data file (${s.bodyFile}): ${(e as Error).message}`;
  }
}
