import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { updateReference } from "../../compiler/docs/reference.js";
import { allMethods } from "../../compiler/methods/registry.js";
import { repoRoot } from "../helpers/paths.js";

test("specs/LANGUAGE.md's reference matches the schemas (npm run docs regenerates it)", () => {
  const text = readFileSync(join(repoRoot, "specs", "LANGUAGE.md"), "utf8");
  assert.fixture(updateReference(text), text);
  for (const method of allMethods()) assert.ok(text.includes(`### \`${method.name}\``), `${method.name} is not documented`);
});

test.run();
