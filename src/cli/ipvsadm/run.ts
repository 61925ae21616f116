/**
 * `uvs ipvsadm ARGS…`: ipvsadm 1.31's main() and process_options() over a DirectorBackend.
 * The backend is opened lazily so -h/-v need no state; every failure becomes ipvsadm's message
 * and exit status — this function never throws.
 */
import type { DirectorBackend } from "../../director/api.ts";
import type { Snapshot } from "../../model/snapshot.ts";
import type { Command } from "./command.ts";
import { emptyFormat } from "./command.ts";
import { listConnections } from "./conn.ts";
import { svcEntry } from "./entries.ts";
import { IpvsadmExit } from "./fail.ts";
import { listAll, listOne } from "./format.ts";
import { usageText, VERSION_LINE } from "./help.ts";
import { daemonText, timeoutText } from "./info.ts";
import { ipvsStrerror } from "./messages.ts";
import { type NameDb, systemNameDb } from "./names.ts";
import { directorOpOf, findService } from "./ops.ts";
import { parseCommandLine } from "./parse.ts";
import { restoreLines } from "./restore.ts";
import { saveText } from "./save.ts";

export interface IpvsadmIo {
  argv0: string;
  readStdin(): Promise<string>;
  openBackend(): Promise<DirectorBackend>;
  /** Name lookups; defaults to this machine's /etc/services and /etc/hosts. */
  names?: NameDb;
}

export interface IpvsadmResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** ipvsadm wants at least IPVS 1.1.4 and warns (once, at start-up) about older kernels. */
const MIN_VERSION_CODE = 0x010104;

function versionWarning(snap: Snapshot): string {
  const v = snap.ipvs_info.version_code;
  if (v >= MIN_VERSION_CODE) return "";
  const text = `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`;
  return `Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version ${text}\n  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n`;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

class Session {
  stdout = "";
  stderr = "";
  private backendP: Promise<DirectorBackend> | null = null;
  readonly names: NameDb;

  constructor(private readonly io: IpvsadmIo) {
    this.names = io.names ?? systemNameDb();
  }

  backend(): Promise<DirectorBackend> {
    this.backendP ??= this.open();
    return this.backendP;
  }

  /** Let go of the backend (a daemon connection) if one was opened. */
  async release(): Promise<void> {
    const b = await this.backendP?.catch(() => null);
    b?.close?.();
  }

  private async open(): Promise<DirectorBackend> {
    try {
      const b = await this.io.openBackend();
      this.stderr += versionWarning(await b.snapshot());
      return b;
    } catch (e) {
      throw new IpvsadmExit(
        2,
        `Can't initialize ipvs: ${errorText(e)}\nAre you sure that IP Virtual Server is built in the kernel or as module?\n`,
      );
    }
  }

  async snapshot(): Promise<Snapshot> {
    return (await this.backend()).snapshot();
  }

  /** process_options(): 0 on success, 255 when the kernel refused (ipvsadm returns -1). */
  async process(args: readonly string[], readingStdin: boolean): Promise<number> {
    const parsed = parseCommandLine(args, { argv0: this.io.argv0, names: this.names, readingStdin });
    if (parsed.kind === "help") throw new IpvsadmExit(0, "", usageText(this.io.argv0));
    if (parsed.kind === "version") throw new IpvsadmExit(0, "", VERSION_LINE);
    return this.execute(parsed.command);
  }

  private async execute(ce: Command): Promise<number> {
    if (ce.cmd === "list") return this.list(ce);
    if (ce.cmd === "save") {
      this.stdout += saveText(await this.snapshot(), ce.format.numeric, this.names);
      return 0;
    }
    if (ce.cmd === "restore") return this.restore();
    return this.change(ce);
  }

  private async list(ce: Command): Promise<number> {
    const snap = await this.snapshot();
    const f = ce.format;
    if (ce.options.has("connection"))
      this.stdout += listConnections(snap, f.numeric, f.persistentConn, this.names);
    else if (ce.options.has("service-address")) {
      const se = findService(snap.services.map(svcEntry), ce.svc);
      if (!se) throw new IpvsadmExit(1, "No such service\n");
      this.stdout += listOne(se, f, this.names);
    } else if (ce.options.has("timeout")) this.stdout += timeoutText(snap);
    else if (ce.options.has("daemon")) this.stdout += daemonText(snap);
    else this.stdout += listAll(snap, f, this.names);
    return 0;
  }

  private async change(ce: Command): Promise<number> {
    const req = directorOpOf(ce);
    if (!req) throw new Error(`unsupported command ${ce.cmd}`);
    const backend = await this.backend();
    const res = await backend.apply(req.op);
    if (!res.ok) {
      // A daemon may refuse for a reason of its own (e.g. DR on the proxy plane) and say why.
      this.stderr += `${res.message ?? ipvsStrerror(req.kernelOp, res.errno)}\n`;
      return 255;
    }
    await backend.commit();
    return 0;
  }

  /** -R: each line runs like a command line; the status is the last line's. */
  private async restore(): Promise<number> {
    const lines = restoreLines(await this.io.readStdin());
    let result = 0;
    for (const argv of lines) result = await this.process(argv, true);
    return result;
  }

  /** `ipvsadm` alone lists the table with names resolved. */
  async listDefault(): Promise<number> {
    this.stdout += listAll(await this.snapshot(), emptyFormat(), this.names);
    return 0;
  }
}

export async function runIpvsadm(args: string[], io: IpvsadmIo): Promise<IpvsadmResult> {
  const s = new Session(io);
  let code: number;
  try {
    code = args.length === 0 ? await s.listDefault() : await s.process(args, false);
  } catch (e) {
    if (e instanceof IpvsadmExit) {
      s.stdout += e.stdout;
      s.stderr += e.stderr;
      code = e.code;
    } else {
      s.stderr += `${io.argv0}: ${errorText(e)}\n`;
      code = 1;
    }
  }
  await s.release();
  return { stdout: s.stdout, stderr: s.stderr, code };
}
