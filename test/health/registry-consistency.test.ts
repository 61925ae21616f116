import { expect, test } from "bun:test";
import { CHECKERS } from "../../src/health/registry.ts";
import { RUN_CHECKERS } from "../../src/rules/keywords.ts";

test("the rules module's list of checkers uvs runs is the health registry's", () => {
  expect([...RUN_CHECKERS].sort()).toEqual(Object.keys(CHECKERS).sort());
});
