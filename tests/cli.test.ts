import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { hasStackTrace, peftc } from "./helpers/cli.js";

const messy = 'peft 1\nadapter a: lora { r = 4   target "q_proj" }  # note\n';
const tidy = 'peft 1\n\nadapter a: lora {  # note\n  r = 4\n  target "q_proj"\n}\n';

test("fmt rewrites a file in place; --check reports without writing", () => {
  const dir = mkdtempSync(join(tmpdir(), "peftc-fmt-"));
  const file = join(dir, "a.peft");
  writeFileSync(file, messy);
  const checked = peftc(["fmt", "--check", file]);
  assert.is(checked.status, 1);
  assert.match(checked.stderr, "not formatted");
  assert.is(readFileSync(file, "utf8"), messy);
  assert.is(peftc(["fmt", file]).status, 0);
  assert.is(readFileSync(file, "utf8"), tidy);
  assert.is(peftc(["fmt", "--check", file]).status, 0);
});

test("fmt refuses a file with syntax errors and leaves it untouched", () => {
  const dir = mkdtempSync(join(tmpdir(), "peftc-fmt-"));
  const file = join(dir, "bad.peft");
  writeFileSync(file, "peft 1\nadapter a: lora {\n");
  const result = peftc(["fmt", file]);
  assert.is(result.status, 1);
  assert.match(result.stderr, `${file}:2:18: error:`);
  assert.is(readFileSync(file, "utf8"), "peft 1\nadapter a: lora {\n");
  assert.ok(!hasStackTrace(result.stderr));
});

test("compile --emit ir prints the spec IR with defaults filled in", () => {
  const dir = mkdtempSync(join(tmpdir(), "peftc-ir-"));
  const file = join(dir, "a.peft");
  writeFileSync(file, 'peft 1\nadapter a: lora { r = 4  layers = [0..2, 5]  target "layers.[0..3].q_proj" { alpha = 2 } }\n');
  const result = peftc(["compile", file, "--emit", "ir"]);
  assert.is(result.status, 0, result.stderr);
  const ir = JSON.parse(result.stdout);
  assert.is(ir.adapters[0].hyperparameters.r, 4);
  assert.is(ir.adapters[0].hyperparameters.alpha, 8);
  assert.equal(ir.adapters[0].hyperparameters.layers, [0, 1, 2, 5]);
  assert.equal(ir.adapters[0].rules[0], { action: "target", selectors: [{ kind: "glob", pattern: "layers.[0..3].q_proj" }], set: { alpha: 2 } });
  assert.is(peftc(["compile", file, "--emit", "nonsense"]).status, 2);
});

test("--emit peft-config with several adapters asks which one", () => {
  const dir = mkdtempSync(join(tmpdir(), "peftc-ir-"));
  const file = join(dir, "two.peft");
  writeFileSync(file, 'peft 1\nadapter a: lora { target "q" }\nadapter b: ia3 { target "k" }\n');
  const ambiguous = peftc(["compile", file, "--emit", "peft-config"]);
  assert.is(ambiguous.status, 1);
  assert.match(ambiguous.stderr, "choose one with --adapter NAME");
  const chosen = peftc(["compile", file, "--emit", "peft-config", "--adapter", "b"]);
  assert.is(chosen.status, 0, chosen.stderr);
  assert.is(JSON.parse(chosen.stdout).peft_type, "IA3");
});

test.run();
