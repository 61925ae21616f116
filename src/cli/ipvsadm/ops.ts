/** A parsed changing command → the Director operation ipvsadm would send to the kernel. */
import type { DirectorOp } from "../../director/api.ts";
import type { DestConfig, TunnelCsum } from "../../model/dest.ts";
import type { Protocol, ServiceConfig, ServiceId } from "../../model/service.ts";
import type { Command, SvcSpec } from "./command.ts";
import type { SvcEntry } from "./entries.ts";
import { IPPROTO_SCTP, IPPROTO_UDP } from "./hostport.ts";
import type { KernelOp } from "./messages.ts";

function protocolName(n: number): Protocol {
  if (n === IPPROTO_UDP) return "udp";
  if (n === IPPROTO_SCTP) return "sctp";
  return "tcp";
}

/** null when no service was given (ipvsadm sends an all-zero service: "every service"). */
export function serviceIdOf(svc: SvcSpec): ServiceId | null {
  if (svc.fwmark) return { kind: "fwmark", af: svc.af ?? "inet", fwmark: svc.fwmark };
  if (!svc.addr || !svc.af) return null;
  return { kind: "addr", af: svc.af, protocol: protocolName(svc.protocol), addr: svc.addr, port: svc.port };
}

function serviceConfig(svc: SvcSpec): ServiceConfig {
  return {
    scheduler: svc.schedName,
    flags: svc.flags,
    timeout: svc.timeout,
    netmask: svc.netmask,
    peName: svc.peName || null,
  };
}

/** Only one flag can pass the tunnel checks; OR-ed values are mapped like the kernel's bits. */
function tunnelCsum(flags: number): TunnelCsum {
  if (flags & 2) return "remcsum";
  if (flags & 1) return "csum";
  return "nocsum";
}

function destConfig(ce: Command): DestConfig {
  const d = ce.dest;
  return {
    af: d.af!,
    addr: d.addr!,
    port: d.port,
    forward: d.forward ?? "route",
    weight: d.weight,
    uThreshold: d.uThreshold,
    lThreshold: d.lThreshold,
    tunnelType: d.tunType,
    tunnelPort: d.tunPort,
    tunnelCsum: tunnelCsum(d.tunFlags),
  };
}

/** The operation and the libipvs function name its errors are reported under. */
export function directorOpOf(ce: Command): { op: DirectorOp; kernelOp: KernelOp } | null {
  const sid = serviceIdOf(ce.svc);
  switch (ce.cmd) {
    case "add-service":
    case "edit-service":
      return { op: { op: ce.cmd, service: sid!, config: serviceConfig(ce.svc) }, kernelOp: ce.cmd };
    case "delete-service":
      return { op: { op: "delete-service", service: sid! }, kernelOp: ce.cmd };
    case "flush":
      return { op: { op: "flush" }, kernelOp: "flush" };
    case "zero":
      return { op: { op: "zero", service: sid }, kernelOp: "zero" };
    case "add-server":
    case "edit-server":
      return { op: { op: ce.cmd, service: sid!, dest: destConfig(ce) }, kernelOp: ce.cmd };
    case "delete-server":
      return {
        op: { op: "delete-server", service: sid!, addr: ce.dest.addr!, port: ce.dest.port },
        kernelOp: ce.cmd,
      };
    case "set":
      return { op: { op: "set-timeouts", ...ce.timeouts }, kernelOp: "set-timeouts" };
    case "start-daemon":
      return { op: { op: "start-daemon", daemon: daemonConfig(ce) }, kernelOp: ce.cmd };
    case "stop-daemon":
      return {
        op: { op: "stop-daemon", state: ce.daemon.state!, syncid: ce.daemon.syncid },
        kernelOp: ce.cmd,
      };
    default:
      return null;
  }
}

function daemonConfig(ce: Command) {
  const d = ce.daemon;
  return {
    state: d.state!,
    mcastIfn: d.mcastIfn || "eth0",
    syncid: d.syncid,
    ...(d.maxlen !== undefined ? { maxlen: d.maxlen } : {}),
    ...(d.group !== undefined ? { group: d.group } : {}),
    ...(d.port !== undefined ? { port: d.port } : {}),
    ...(d.ttl !== undefined ? { ttl: d.ttl } : {}),
  };
}

/** ipvs_get_service(): the kernel's lookup of one service for `-L <service>`. */
export function findService(entries: SvcEntry[], svc: SvcSpec): SvcEntry | undefined {
  if (svc.fwmark) return entries.find((e) => e.fwmark === svc.fwmark && e.af === (svc.af ?? "inet"));
  return entries.find(
    (e) =>
      !e.fwmark &&
      e.af === svc.af &&
      e.protocol === svc.protocol &&
      e.addr?.text === svc.addr?.text &&
      e.port === svc.port,
  );
}
