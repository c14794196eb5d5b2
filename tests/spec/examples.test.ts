// Every example spec checks clean (no errors, no warnings) and is canonically formatted.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { format } from "../../grammar/format.js";
import { parse } from "../../grammar/parse.js";
import { analyzeSpec } from "../../compiler/spec/analyze.js";
import { allMethods } from "../../compiler/methods/registry.js";
import { peftc } from "../helpers/cli.js";
import { repoRoot } from "../helpers/paths.js";

const dir = join(repoRoot, "specs", "examples");
const files = readdirSync(dir).filter((f) => f.endsWith(".peft")).sort();

for (const file of files) {
  test(`example ${file} checks clean and is formatted`, () => {
    const text = readFileSync(join(dir, file), "utf8");
    const result = analyzeSpec({ path: file, text });
    assert.equal(result.diagnostics, []);
    assert.ok(result.ir);
    assert.fixture(format(parse(text).ast!), text);
  });
}

test("there is an example of every method", () => {
  const used = new Set<string>();
  for (const file of files) {
    const ir = analyzeSpec({ path: file, text: readFileSync(join(dir, file), "utf8") }).ir!;
    for (const adapter of ir.adapters) used.add(adapter.method);
  }
  for (const method of allMethods()) assert.ok(used.has(method.name), `no example uses ${method.name}`);
});

test("peftc check and fmt --check pass on all examples", () => {
  const paths = files.map((f) => join(dir, f));
  const check = peftc(["check", ...paths]);
  assert.is(check.status, 0, check.stderr);
  assert.is(peftc(["fmt", "--check", ...paths]).status, 0);
});

test.run();
