/**
 * The report: ab 2.3's sections, field names, order and number formats (from "Server
 * Software:" on; the CLI prints ab's banner lines before it), then uvs's additions: the HDR
 * tail, errors by kind and the spread over real servers.
 */
import { type ConnTimes, connectionTimes, percentages, type Row } from "./ab-stats.ts";
import type { BenchOptions, BenchResult } from "./api.ts";

const pad = (v: number | string, w: number): string => String(v).padStart(w);
const field = (name: string, value: string): string => `${`${name}:`.padEnd(24)}${value}\n`;

export function formatAbReport(r: BenchResult, opts: BenchOptions): string {
  let out = header(r, opts) + counts(r, opts) + rates(r);
  if (r.samples.count > 0) out += timesSection(r, opts);
  return out + additions(r);
}

function header(r: BenchResult, opts: BenchOptions): string {
  if (r.mode !== "http") {
    const what =
      r.mode === "udp"
        ? "udp (one datagram and its reply per request)"
        : "tcp-connect (a new connection per request)";
    const payload = opts.payloadBytes ?? (r.mode === "udp" ? 64 : 0);
    return (
      field("Server Hostname", r.host) +
      field("Server Port", String(r.port)) +
      field("Mode", what) +
      "\n" +
      field("Payload Length", `${payload} bytes`) +
      "\n"
    );
  }
  return (
    field("Server Software", r.serverSoftware) +
    field("Server Hostname", r.host) +
    field("Server Port", String(r.port)) +
    tlsLines(r) +
    "\n" +
    field("Document Path", r.path) +
    field("Document Length", opts.variableLength ? "Variable" : `${r.docLength} bytes`) +
    "\n"
  );
}

/** ab's TLS lines. Its "Server Temp Key" line is missing: Bun does not tell the client's key exchange. */
function tlsLines(r: BenchResult): string {
  if (!r.tls) return "";
  let s = r.tls.protocol ? field("SSL/TLS Protocol", r.tls.protocol) : "";
  if (r.tls.serverName) s += field("TLS Server Name", r.tls.serverName);
  return s;
}

function counts(r: BenchResult, opts: BenchOptions): string {
  let s = field("Concurrency Level", String(r.concurrency));
  s += field("Time taken for tests", `${r.timeTakenS.toFixed(3)} seconds`);
  s += field("Complete requests", String(r.complete));
  s += field("Failed requests", String(r.failed));
  if (r.failed)
    s += `   (Connect: ${r.errConnect}, Receive: ${r.errReceive}, Length: ${r.errLength}, Exceptions: ${r.errExceptions})\n`;
  if (r.writeErrors) s += field("Write errors", String(r.writeErrors));
  if (r.non2xx) s += field("Non-2xx responses", String(r.non2xx));
  if (opts.keepAlive && r.mode === "http") s += field("Keep-Alive requests", String(r.keepAliveRequests));
  s += field("Total transferred", `${r.totalRead} bytes`);
  if (r.bodySent) s += field("Total body sent", String(r.totalSent));
  if (r.mode === "http") s += field("HTML transferred", `${r.htmlRead} bytes`);
  return s;
}

function rates(r: BenchResult): string {
  const t = r.timeTakenS;
  const n = r.complete;
  if (!(t > 0) || n === 0) return "";
  let s = field("Requests per second", `${(n / t).toFixed(2)} [#/sec] (mean)`);
  s += field("Time per request", `${((r.concurrency * t * 1000) / n).toFixed(3)} [ms] (mean)`);
  s += field(
    "Time per request",
    `${((t * 1000) / n).toFixed(3)} [ms] (mean, across all concurrent requests)`,
  );
  s += field("Transfer rate", `${(r.totalRead / 1024 / t).toFixed(2)} [Kbytes/sec] received`);
  if (r.bodySent) {
    s += `${"".padEnd(24)}${(r.totalSent / 1024 / t).toFixed(2)} kb/s sent\n`;
    s += `${"".padEnd(24)}${((r.totalRead + r.totalSent) / 1024 / t).toFixed(2)} kb/s total\n`;
  }
  return s;
}

const fullRow = (name: string, x: Row): string =>
  `${name}${pad(x.min, 5)} ${pad(x.mean, 4)} ${pad(x.sd.toFixed(1), 5)} ${pad(x.median, 6)} ${pad(x.max, 7)}\n`;
const shortRow = (name: string, x: Row): string =>
  `${name}${pad(x.min, 5)} ${pad(x.mean, 5)}${pad(x.max, 5)}\n`;

function sane(what: string, x: Row): string {
  const d = Math.abs(x.mean - x.median);
  if (d > 2 * x.sd)
    return `ERROR: The median and mean for ${what} are more than twice the standard\n       deviation apart. These results are NOT reliable.\n`;
  if (d > x.sd)
    return `WARNING: The median and mean for ${what} are not within a normal deviation\n        These results are probably not that reliable.\n`;
  return "";
}

function timesSection(r: BenchResult, opts: BenchOptions): string {
  const ct: ConnTimes = connectionTimes(r.samples);
  let s = "\nConnection Times (ms)\n";
  if (opts.confidence !== false) {
    s += "              min  mean[+/-sd] median   max\n";
    s += fullRow("Connect:    ", ct.connect) + fullRow("Processing: ", ct.processing);
    s += fullRow("Waiting:    ", ct.waiting) + fullRow("Total:      ", ct.total);
    s += sane("the initial connection time", ct.connect) + sane("the processing time", ct.processing);
    s += sane("the waiting time", ct.waiting) + sane("the total time", ct.total);
  } else {
    s += "              min   avg   max\n";
    s += shortRow("Connect:    ", ct.connect) + shortRow("Processing: ", ct.processing);
    s += shortRow("Waiting:    ", ct.waiting) + shortRow("Total:      ", ct.total);
  }
  if (opts.percentiles !== false && r.samples.count > 1) {
    s += "\nPercentage of the requests served within a certain time (ms)\n";
    for (const [p, ms] of percentages(ct.sortedTime))
      s += p >= 100 ? ` 100%  ${pad(ms, 5)} (longest request)\n` : `  ${p}%  ${pad(ms, 5)}\n`;
  }
  return s;
}

/** uvs's lines after ab's report. */
function additions(r: BenchResult): string {
  let s = "\nLatency tail (HDR histogram, ms)\n";
  s += `  99.9%  ${pad(r.hdr.p999.toFixed(3), 10)}\n`;
  s += ` 99.99%  ${pad(r.hdr.p9999.toFixed(3), 10)}\n`;
  const kinds = Object.entries(r.errorsByKind).sort((a, b) => b[1] - a[1]);
  s += "\nErrors by kind\n";
  if (kinds.length === 0) s += "  none\n";
  for (const [k, v] of kinds) s += `  ${k.padEnd(20)}${pad(v, 10)}\n`;
  if (r.serverSource) {
    s += `\nResponses by real server (${r.serverSource})\n`;
    const named = r.servers.reduce((a, e) => a + e.count, 0);
    if (named === 0) s += "  no response named its server\n";
    for (const e of r.servers)
      s += `  ${e.name.padEnd(20)}${pad(e.count, 10)} ${pad(((100 * e.count) / named).toFixed(1), 6)}%\n`;
    const unnamed = r.samples.count - named;
    if (unnamed > 0 && named > 0) s += `  ${"(unnamed)".padEnd(20)}${pad(unnamed, 10)}\n`;
  }
  if (r.engine) s += `\nHTTP engine: ${r.engine}${r.fastPath ? " (C fast path)" : ""}\n`;
  if (r.interrupted) s += "\nInterrupted: the report covers the requests done before the stop.\n";
  return s;
}
