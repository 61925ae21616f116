/**
 * A small re-implementation of the parts of popt's poptGetNextOpt() that ipvsadm relies on:
 * bundled short options, attached arguments (`-p600`, `-w=5`), `--long=value`, optional
 * arguments that only take a following word not starting with `-`, `--` ending options and
 * non-option words collected as leftovers.
 */

export type ArgKind = "none" | "required" | "optional";

export interface PoptOption {
  long?: string;
  short?: string;
  arg: ArgKind;
  /** What the caller switches on (ipvsadm's `val`). */
  val: string;
}

export type PoptEvent =
  | { type: "option"; opt: PoptOption; arg: string | null }
  | { type: "end" }
  | { type: "error"; message: string };

export const POPT_NOARG = "missing argument";
export const POPT_UNWANTEDARG = "option does not take an argument";
export const POPT_BADOPT = "unknown option";

export class PoptContext {
  private next = 0;
  private nextCharArg: string | null = null;
  private restLeftover = false;
  readonly leftovers: string[] = [];

  constructor(
    private readonly table: readonly PoptOption[],
    private readonly argv: readonly string[],
  ) {}

  /** poptBadOption(): the argv word consumed last (the whole word for bundled options). */
  badOption(): string {
    return this.argv[this.next - 1] ?? "";
  }

  getNextOpt(): PoptEvent {
    for (;;) {
      if (this.nextCharArg === null && this.next >= this.argv.length) return { type: "end" };
      let opt: PoptOption | undefined;
      let longArg: string | null = null;
      if (this.nextCharArg === null) {
        const word = this.argv[this.next++];
        if (this.restLeftover || word[0] !== "-" || word === "-") {
          this.leftovers.push(word);
          continue;
        }
        if (word === "--") {
          this.restLeftover = true;
          continue;
        }
        if (word[1] === "-") {
          const body = word.slice(2);
          const eq = body.indexOf("=");
          const name = eq >= 0 ? body.slice(0, eq) : body;
          if (eq >= 0) longArg = body.slice(eq + 1);
          opt = this.table.find((o) => o.long === name);
          if (!opt) return { type: "error", message: POPT_BADOPT };
        } else {
          // No option of ipvsadm's table is a one-dash long option: it is a short-option bundle.
          this.nextCharArg = word.slice(1);
        }
      }
      if (this.nextCharArg !== null) {
        const ch = this.nextCharArg[0];
        this.nextCharArg = this.nextCharArg.length > 1 ? this.nextCharArg.slice(1) : null;
        opt = this.table.find((o) => o.short === ch);
        if (!opt) return { type: "error", message: POPT_BADOPT };
      }
      return this.takeArgument(opt!, longArg);
    }
  }

  private takeArgument(opt: PoptOption, longArg: string | null): PoptEvent {
    if (opt.arg === "none") {
      if (longArg !== null || this.nextCharArg?.[0] === "=")
        return { type: "error", message: POPT_UNWANTEDARG };
      return { type: "option", opt, arg: null };
    }
    let arg: string | null;
    if (longArg !== null) arg = longArg;
    else if (this.nextCharArg !== null) {
      arg = this.nextCharArg[0] === "=" ? this.nextCharArg.slice(1) : this.nextCharArg;
      this.nextCharArg = null;
    } else if (this.next >= this.argv.length) {
      if (opt.arg !== "optional") return { type: "error", message: POPT_NOARG };
      arg = null;
    } else if (opt.arg === "optional" && this.argv[this.next][0] === "-") arg = null;
    else arg = this.argv[this.next++];
    return { type: "option", opt, arg };
  }
}
