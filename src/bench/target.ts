/**
 * ab's URL form: `[http://]host[:port]/path`. The path is required (ab refuses a URL without
 * one); https is not supported. IPv6 hosts are written in brackets, as ab expects.
 */
export interface Target {
  host: string; // address or name to connect to, without brackets
  port: number;
  path: string;
  hostHeader: string; // the Host header value: host, [v6], with ":port" unless the port is 80
}

export function parseTarget(url: string): Target | string {
  let rest = url;
  if (rest.startsWith("https://")) return "https is not supported by uvs bench";
  if (rest.startsWith("http://")) rest = rest.slice(7);
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
  let port = 80;
  if (portText) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return "invalid URL";
    port = Number(portText);
  }
  const shown = host.includes(":") ? `[${host}]` : host;
  return { host, port, path, hostHeader: port === 80 ? shown : `${shown}:${port}` };
}
