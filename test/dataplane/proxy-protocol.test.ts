/**
 * PROXY protocol headers byte for byte as HAProxy's proxy-protocol.txt lays them out (§2.1 text
 * line, §2.2 binary header); expected bytes are written out by hand here, not derived from the encoder.
 */
import { describe, expect, test } from "bun:test";
import { encodeV1, encodeV2, encodeV2Local, proxyHeader } from "../../src/dataplane/proxy/proxy-protocol.ts";
import { ip } from "../helpers/director.ts";
import { backend, backendText, Client, Lab, LO, waitFor } from "./helpers.ts";

const ep = (a: string, port: number) => ({ addr: ip(a), port });
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const SIG = "0d0a0d0a000d0a515549540a";

describe("PROXY protocol v1", () => {
  test("TCP4 line", () => {
    const h = encodeV1(ep("192.0.2.1", 56324), ep("198.51.100.2", 443));
    expect(new TextDecoder().decode(h)).toBe("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
  });

  test("TCP6 line", () => {
    const h = encodeV1(ep("2001:db8::1", 1234), ep("::1", 80));
    expect(new TextDecoder().decode(h)).toBe("PROXY TCP6 2001:db8::1 ::1 1234 80\r\n");
  });

  test("mixed families: UNKNOWN", () => {
    expect(new TextDecoder().decode(encodeV1(ep("192.0.2.1", 1), ep("::1", 2)))).toBe("PROXY UNKNOWN\r\n");
  });

  test("the longest line fits the 107-byte limit", () => {
    const a = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe";
    const h = encodeV1(ep(a, 65535), ep(a, 65535));
    expect(h.length).toBe(104);
    expect(h.length).toBeLessThanOrEqual(107);
  });
});

describe("PROXY protocol v2", () => {
  test("TCP over IPv4: signature, 0x21, 0x11, length 12, addresses, ports", () => {
    const h = encodeV2("tcp", ep("127.0.0.1", 56324), ep("10.0.0.2", 443));
    expect(hex(h)).toBe(`${SIG}2111000c7f0000010a000002dc0401bb`);
    expect(h.length).toBe(28);
  });

  test("UDP over IPv4: family/protocol byte 0x12", () => {
    const h = encodeV2("udp", ep("192.0.2.1", 53), ep("198.51.100.2", 5353));
    expect(hex(h)).toBe(`${SIG}2112000cc0000201c6336402003514e9`);
  });

  test("TCP over IPv6: 0x21, length 36", () => {
    const h = encodeV2("tcp", ep("2001:db8::1", 1234), ep("::1", 80));
    const src = "20010db8000000000000000000000001";
    const dst = "00000000000000000000000000000001";
    expect(hex(h)).toBe(`${SIG}21210024${src}${dst}04d20050`);
    expect(h.length).toBe(52);
  });

  test("UDP over IPv6: 0x22", () => {
    expect(encodeV2("udp", ep("::1", 1), ep("::1", 2))[13]).toBe(0x22);
  });

  test("LOCAL command for mixed families, with an empty address block", () => {
    expect(hex(encodeV2("tcp", ep("192.0.2.1", 1), ep("::1", 2)))).toBe(`${SIG}20000000`);
    expect(hex(encodeV2Local())).toBe(`${SIG}20000000`);
  });

  test("proxyHeader: v1 has no UDP form", () => {
    expect(proxyHeader("v1", "udp", ep("192.0.2.1", 1), ep("192.0.2.2", 2))).toBeNull();
    expect(proxyHeader("v2", "udp", ep("192.0.2.1", 1), ep("192.0.2.2", 2))![13]).toBe(0x12);
    expect(proxyHeader("v1", "tcp", ep("192.0.2.1", 1), ep("192.0.2.2", 2))![0]).toBe(0x50); // "P"
  });
});

describe("PROXY protocol end to end (TCP)", () => {
  test("v1: the backend gets the line first, with the client's address and the VIP", async () => {
    using b = backend("pp1");
    await using lab = await Lab.start({ backends: [{ port: b.port, pp: "v1" }] });
    using c = await Client.connect(lab.port);
    c.sock.write("hello");
    await waitFor(() => b.conns.length === 1 && backendText(b.conns[0].data).endsWith("hello"));
    const cport = c.sock.localPort;
    expect(backendText(b.conns[0].data)).toBe(`PROXY TCP4 ${LO} ${LO} ${cport} ${lab.port}\r\nhello`);
    expect(lab.dest(b.port).stats.read().inbytes).toBe(5n);
  });

  test("v2: the backend gets the binary header first; servers without it get none", async () => {
    using b = backend("pp2");
    using plain = backend("plain");
    await using lab = await Lab.start({ backends: [{ port: b.port, pp: "v2" }, { port: plain.port }] });
    using c1 = await Client.connect(lab.port);
    using c2 = await Client.connect(lab.port);
    c1.sock.write("1");
    c2.sock.write("2");
    await waitFor(() => b.conns[0]?.data.rx.length > 0 && plain.conns[0]?.data.rx.length > 0);
    await waitFor(() => Buffer.concat(b.conns[0].data.rx).length === 29);
    const got = Buffer.concat(b.conns[0].data.rx);
    // Whichever client rr sent to the v2 server: its port must be the header's source port.
    const client = got.at(-1) === 0x31 ? c1 : c2;
    const p16 = (n: number) => n.toString(16).padStart(4, "0");
    const payload = client === c1 ? "31" : "32";
    expect(got.toString("hex")).toBe(
      `${SIG}2111000c7f0000017f000001${p16(client.sock.localPort)}${p16(lab.port)}${payload}`,
    );
    expect(backendText(plain.conns[0].data)).toBe(client === c1 ? "2" : "1");
  });
});
