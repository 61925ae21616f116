/**
 * ab's URL form: `[http[s]://]host[:port]/path`. The path is required (ab refuses a URL without
 * one). IPv6 hosts are written in brackets, as ab expects.
 */
export interface Target {
  host: string; // address or name to connect to, without brackets
  port: number;
  path: string;
  hostHeader: string; // the Host header value: host, [v6], with ":port" unless the scheme's port
  /** https: TLS on every connection. */
  tls: boolean;
  /** The TLS server name (SNI) ab sends: the host when it is a name, not an address. */
  serverName: string | null;
}

export function parseTarget(url: string): Target | string {
  let rest = url;
  const tls = rest.startsWith("https://");
  if (tls) rest = rest.slice(8);
  else if (rest.startsWith("http://")) rest = rest.slice(7);
  const slash = rest.indexOf("/");
  if (slash <= 0) return "invalid URL";
  const hostPort = rest.slice(0, slash);
  const path = rest.slice(slash);
  let host: string;
  let portText = "";
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0) return "invalid URL";
    host = hostPort.slice(1, close);
    const tail = hostPort.slice(close + 1);
    if (tail && !tail.startsWith(":")) return "invalid URL";
    portText = tail.slice(1);
  } else {
    const colon = hostPort.lastIndexOf(":");
    host = colon < 0 ? hostPort : hostPort.slice(0, colon);
    portText = colon < 0 ? "" : hostPort.slice(colon + 1);
  }
  if (!host) return "invalid URL";
  const defaultPort = tls ? 443 : 80;
  let port = defaultPort;
  if (portText) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return "invalid URL";
    port = Number(portText);
  }
  const shown = host.includes(":") ? `[${host}]` : host;
  const isAddress = host.includes(":") || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
  return {
    host,
    port,
    path,
    hostHeader: port === defaultPort ? shown : `${shown}:${port}`,
    tls,
    serverName: tls && !isAddress ? host : null,
  };
}
