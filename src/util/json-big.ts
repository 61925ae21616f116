/**
 * JSON with exact 64-bit integers: integers beyond 2^53 parse as bigint (through the reviver's
 * source text), and bigints serialise as bare JSON numbers.
 */
export function parseJsonBig(text: string): unknown {
  return JSON.parse(text, (_key, value, ctx?: { source?: string }) => {
    if (
      typeof value === "number" &&
      !Number.isSafeInteger(value) &&
      ctx?.source &&
      /^-?\d+$/.test(ctx.source)
    ) {
      return BigInt(ctx.source);
    }
    return value;
  });
}

type RawJson = (text: string) => unknown;
const rawJSON = (JSON as unknown as { rawJSON: RawJson }).rawJSON;

export function stringifyJsonBig(value: unknown, indent = 2): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      typeof v === "bigint" ? (Number.isSafeInteger(Number(v)) ? Number(v) : rawJSON(v.toString())) : v,
    indent,
  );
}
