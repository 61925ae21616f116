/** `uvs snapshot` and `uvs reload [--dry-run]`: small clients of the running daemon. */
import { connectControl } from "../control/client.ts";
import { parseJsonBig, stringifyJsonBig } from "../util/json-big.ts";
import { plural } from "../util/plural.ts";

export async function runSnapshot(control: string): Promise<number> {
  try {
    const c = await connectControl(control);
    const text = await c.call("snapshot", {});
    c.close();
    process.stdout.write(`${stringifyJsonBig(parseJsonBig(text))}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`uvs snapshot: ${(e as Error).message}\n`);
    return 1;
  }
}

export async function runReload(args: string[], control: string): Promise<number> {
  const dryRun = args.includes("--dry-run") || args.includes("-n");
  const unknown = args.filter((a) => a !== "--dry-run" && a !== "-n");
  if (unknown.length) {
    process.stderr.write(
      `uvs reload: unexpected argument ${JSON.stringify(unknown[0])}\nusage: uvs reload [--dry-run]\n`,
    );
    return 2;
  }
  try {
    const c = await connectControl(control);
    const r = await c.call("reload", { dryRun });
    c.close();
    for (const e of r.errors) process.stderr.write(`${e}\n`);
    if (r.errors.length) return 1;
    if (dryRun) process.stdout.write(r.lines.length ? `${r.lines.join("\n")}\n` : "no changes\n");
    else if (!r.applied) process.stdout.write("not reloaded\n");
    else
      process.stdout.write(r.steps ? `reloaded (${plural(r.steps, "change")})\n` : "reloaded: no changes\n");
    return 0;
  } catch (e) {
    process.stderr.write(`uvs reload: ${(e as Error).message}\n`);
    return 1;
  }
}
