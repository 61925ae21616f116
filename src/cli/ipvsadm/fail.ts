/**
 * ipvsadm ends the whole process from deep inside (fail(), exit(), tryhelp_exit()); we model
 * that as a thrown IpvsadmExit caught once in runIpvsadm, which also stops a running -R.
 */
export class IpvsadmExit extends Error {
  constructor(
    readonly code: number,
    readonly stderr: string,
    readonly stdout = "",
  ) {
    super(stderr.trimEnd());
  }
}

/** ipvsadm's fail(2, ...): message and newline on stderr, exit status 2. */
export function fail(message: string): never {
  throw new IpvsadmExit(2, `${message}\n`);
}
