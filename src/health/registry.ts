/** Checker type → implementation. Types uvs cannot run (BFD_CHECK, FILE_CHECK) are listed apart. */

import { table } from "../util/table.ts";
import type { Checker } from "./checker.ts";
import { dnsCheck } from "./dns.ts";
import { httpCheck } from "./http.ts";
import { miscCheck } from "./misc.ts";
import { pingCheck } from "./ping.ts";
import { smtpCheck } from "./smtp.ts";
import { tcpCheck } from "./tcp.ts";
import { udpCheck } from "./udp.ts";

export const CHECKERS: Readonly<Record<string, Checker>> = table({
  TCP_CHECK: tcpCheck,
  HTTP_GET: httpCheck,
  SSL_GET: httpCheck,
  SMTP_CHECK: smtpCheck,
  DNS_CHECK: dnsCheck,
  UDP_CHECK: udpCheck,
  PING_CHECK: pingCheck,
  MISC_CHECK: miscCheck,
});

export function checkerFor(type: string): Checker | null {
  return CHECKERS[type] ?? null;
}
