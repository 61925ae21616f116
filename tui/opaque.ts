/**
 * Large data passed as a React prop, as one opaque value.
 *
 * React's development build (`bun src/main.ts tui`, the tests) logs each component render for its
 * performance tracks and, for that, diffs every changed prop item by item, 3 levels deep: 100,000
 * connections and 11,000 service rows took ~0.5 s after each snapshot, and the next key waited for
 * it (measured: 450–600 ms key → frame with a 4 Hz refresh; 5–30 ms without). That diff walks only
 * enumerable properties; a private field is not one. The production build (the compiled binary)
 * does none of this, and a wrapper costs nothing there.
 */
export class Opaque<T> {
  readonly #value: T;
  constructor(value: T) {
    this.#value = value;
  }
  get value(): T {
    return this.#value;
  }
}
