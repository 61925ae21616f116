/**
 * A lookup table for names that come from input (a rules file, a command line, JSON): an object
 * without a prototype, so "toString", "constructor" or "__proto__" are unknown names, not
 * Object's methods (an ordinary literal would answer them, and `in` would say they are there).
 */
export function table<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}
