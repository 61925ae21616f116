/**
 * Thin wrappers over `ip` for the labs: run a command (optionally inside a namespace), list and
 * create namespaces. Failures come back as values or as a LabError naming the command and ip's words.
 */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class LabError extends Error {}

/** Run argv synchronously; never throws (a missing program is exit code 127). */
export function run(argv: string[], env?: Record<string, string>): RunResult {
  try {
    const p = Bun.spawnSync(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env });
    return { code: p.exitCode ?? 1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
  } catch (e) {
    return { code: 127, stdout: "", stderr: `${argv[0]}: ${(e as Error).message}` };
  }
}

/** argv run inside namespace ns (`ip netns exec`). */
export function inNs(ns: string, argv: string[]): string[] {
  return ["ip", "netns", "exec", ns, ...argv];
}

/** Run and fail loudly: the LabError names what was being done and what ip said. */
export function must(argv: string[], what: string): string {
  const r = run(argv);
  if (r.code !== 0)
    throw new LabError(`${what}: \`${argv.join(" ")}\` failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** `ip -n NS ARGS…` (or plain `ip ARGS…`), failing loudly. */
export function ip(ns: string | undefined, args: string[], what: string): string {
  return must(ns ? ["ip", "-n", ns, ...args] : ["ip", ...args], what);
}

export function listNamespaces(): string[] {
  const r = run(["ip", "netns", "list"]);
  if (r.code !== 0) return [];
  // Lines look like "name (id: 3)" or just "name".
  return r.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n): n is string => !!n);
}

export function addNamespace(ns: string): void {
  must(["ip", "netns", "add", ns], `create namespace ${ns}`);
  ip(ns, ["link", "set", "lo", "up"], `bring lo up in ${ns}`);
}

/** Remove a namespace; true when it existed. A namespace already gone is not an error. */
export function deleteNamespace(ns: string): boolean {
  if (!listNamespaces().includes(ns)) return false;
  const r = run(["ip", "netns", "delete", ns]);
  if (r.code !== 0 && listNamespaces().includes(ns))
    throw new LabError(`delete namespace ${ns}: ${r.stderr.trim()}`);
  return true;
}

/** Pids of the processes living in namespace ns. */
export function namespacePids(ns: string): number[] {
  const r = run(["ip", "netns", "pids", ns]);
  if (r.code !== 0) return [];
  return r.stdout
    .split("\n")
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Set sysctl key=value inside namespace ns (sysctls under net. are per namespace). */
export function nsSysctl(ns: string, key: string, value: string): void {
  must(inNs(ns, ["sysctl", "-qw", `${key}=${value}`]), `set ${key}=${value} in ${ns}`);
}

/** Why the labs cannot run here, or undefined when they can (root, `ip netns`). */
export function labUnavailable(): string | undefined {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (process.getuid?.() !== 0) return "network namespaces need root";
  const r = run(["ip", "netns", "list"]);
  if (r.code !== 0) return `\`ip netns\` does not work here: ${r.stderr.trim() || `exit ${r.code}`}`;
  if (run(["sysctl", "-n", "kernel.ostype"]).code !== 0) return "the sysctl program is missing";
  return undefined;
}
