// Files bundled into the binary as text (Bun's `with { type: "text" }` imports).
declare module "*.conf" {
  const text: string;
  export default text;
}

declare module "*.c" {
  const text: string;
  export default text;
}
