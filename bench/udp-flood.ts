/**
 * 64-byte UDP frames (60 + FCS) out of one interface as fast as sendmmsg on AF_PACKET allows, for a
 * bounded time; prints {"sent":N,"seconds":S,"errors":{errno:count}} as JSON. Run inside the client
 * namespace by bench/packet-dr.ts:
 *   bun bench/udp-flood.ts IF DST_MAC SRC_IP DST_IP DST_PORT SECONDS
 * 64 distinct source ports (a flow per port, as a real client population would be).
 */
import { readFileSync } from "node:fs";
import { csumAdd, csumFinish, pseudoSumV4, wr16 } from "../src/dataplane/packet/checksum.ts";
import { parseMac, writeEthernet } from "../src/dataplane/packet/ethernet.ts";
import { writeIpv4 } from "../src/dataplane/packet/ipv4.ts";
import { parseIpv4Strict } from "../src/model/addr.ts";
import { errnoName, PacketSocket } from "../src/sys/libc.ts";

const FRAME = 60;
const BATCH = 64;

function fail(msg: string): never {
  process.stderr.write(`udp-flood: ${msg}\n`);
  process.exit(2);
}

/** One frame: Ethernet, IPv4 (DF clear), UDP with a full checksum, zero payload. */
function buildFrame(
  out: Uint8Array,
  dst: Uint8Array,
  src: Uint8Array,
  saddr: number,
  daddr: number,
  sport: number,
  dport: number,
) {
  let o = writeEthernet(out, dst, src, 0x0800);
  const udpLen = FRAME - o - 20;
  o = writeIpv4(out, o, {
    tos: 0,
    totalLength: 20 + udpLen,
    id: sport,
    frag: 0,
    ttl: 64,
    proto: 17,
    saddr,
    daddr,
  });
  wr16(out, o, sport);
  wr16(out, o + 2, dport);
  wr16(out, o + 4, udpLen);
  wr16(out, o + 6, 0);
  out.fill(0, o + 8, FRAME);
  const sum = csumAdd(out, o, udpLen, pseudoSumV4(saddr, daddr, 17, udpLen));
  wr16(out, o + 6, csumFinish(sum) || 0xffff);
}

function main(argv: string[]) {
  const [ifname, dstMacText, srcText, dstText, portText, secondsText] = argv;
  const dst = parseMac(dstMacText ?? "") ?? fail(`bad destination MAC ${dstMacText}`);
  const saddr = parseIpv4Strict(srcText ?? "") ?? fail(`bad source ${srcText}`);
  const daddr = parseIpv4Strict(dstText ?? "") ?? fail(`bad destination ${dstText}`);
  const dport = Number(portText);
  const seconds = Number(secondsText);
  if (!(seconds > 0 && seconds <= 10)) fail("SECONDS must be in (0, 10]");
  const src = parseMac(readFileSync(`/sys/class/net/${ifname}/address`, "utf8").trim()) ?? fail("no MAC");
  const sock = PacketSocket.open(ifname, { batch: BATCH, sndbuf: 4 << 20 });
  const lens = new Array<number>(BATCH).fill(FRAME);
  for (let i = 0; i < BATCH; i++) buildFrame(sock.tx.slots[i], dst, src, saddr, daddr, 10000 + i, dport);
  let sent = 0;
  const errors: Record<string, number> = {};
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let k = 0; k < 16; k++) {
      const n = sock.send(BATCH, lens);
      if (n > 0) sent += n;
      else {
        const name = errnoName(-n);
        errors[name] = (errors[name] ?? 0) + 1;
      }
    }
    now = performance.now();
  }
  sock.close();
  process.stdout.write(`${JSON.stringify({ sent, seconds: (now - start) / 1000, errors })}\n`);
}

main(process.argv.slice(2));
