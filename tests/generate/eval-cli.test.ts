// peftc eval with several adapters over one base: one run per --use, and
// per-example adapters named in the data; batches mix adapters row by row
// and every loss equals what evaluating with that adapter alone gives.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { hasStackTrace, peftc } from "../helpers/cli.js";
import { scratchDir, tinyModel } from "../helpers/fixtures.js";
import { goldenAdapters } from "./helpers.js";

const model = tinyModel("llama");
const dir = scratchDir("eval-mixed");
const texts = ["The quick brown fox jumps over the lazy dog.", "Question: what is two plus three? Answer: five.", "red, green, blue; one, two, three.", "The sentiment of this review is positive."];
const plain = join(dir, "plain.jsonl");
writeFileSync(plain, texts.map((text) => JSON.stringify({ text })).join("\n") + "\n");
const loraA = join(goldenAdapters, "lora-llama");
const loraB = join(goldenAdapters, "lora-layers-llama");

interface One { loss: number; tokens: number; per_example: number[] }

function run(args: string[]): unknown {
  const r = peftc(["eval", "--model", model, ...args, "--json"]);
  assert.is(r.status, 0, r.stderr);
  assert.not.ok(hasStackTrace(r.stderr), r.stderr);
  return JSON.parse(r.stdout);
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(b), `${what}: ${a} vs ${b}`);

/** Each adapter alone over the plain data (as peftc eval ran before it took several). */
let aloneRuns: Record<string, One> | undefined;
function alone(): Record<string, One> {
  aloneRuns ??= { a: run(["--adapter", loraA, "--data", plain]) as One, none: run(["--data", plain]) as One, b: run(["--adapter", loraB, "--data", plain]) as One };
  return aloneRuns;
}

test("one run per --use over mixed batches equals each adapter alone (and the base)", () => {
  // Batch 3 over 12 rows: batches hold rows of different adapters.
  const mixed = run(["--adapter", `a=${loraA}`, "--adapter", `b=${loraB}`, "--use", "a", "--use", "none", "--use", "b", "--data", plain, "--batch", "3"]) as { runs: (One & { adapter: string | null })[] };
  assert.equal(mixed.runs.map((r) => r.adapter), ["a", null, "b"]);
  const single = alone();
  mixed.runs.forEach((r) => {
    const want = single[r.adapter ?? "none"]!;
    close(r.loss, want.loss, `run ${r.adapter}`);
    r.per_example.forEach((l, e) => close(l, want.per_example[e]!, `run ${r.adapter} example ${e}`));
  });
  assert.ok(Math.abs(single.a!.loss - single.none!.loss) > 1e-3, "adapter a changes the loss");
  assert.ok(Math.abs(single.b!.loss - single.none!.loss) > 1e-3, "adapter b changes the loss");
});

test("examples naming their adapter are each evaluated with it", () => {
  const names = ["b", "none", "a", "b"];
  const path = join(dir, "named.jsonl");
  writeFileSync(path, texts.map((text, i) => JSON.stringify({ text, adapter: names[i] })).join("\n") + "\n");
  const out = run(["--adapter", `a=${loraA}`, "--adapter", `b=${loraB}`, "--data", path]) as One & { adapters: { adapter: string | null; examples: number }[] };
  names.forEach((name, e) => close(out.per_example[e]!, alone()[name]!.per_example[e]!, `example ${e} (${name})`));
  assert.equal(out.adapters.map((g) => [g.adapter, g.examples]), [["b", 2], [null, 1], ["a", 1]]);
  const missing = join(dir, "missing.jsonl");
  writeFileSync(missing, `${JSON.stringify({ text: texts[0], adapter: "a" })}\n${JSON.stringify({ text: texts[1] })}\n`);
  const bad = peftc(["eval", "--model", model, "--adapter", `a=${loraA}`, "--data", missing]);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /missing\.jsonl:2: no "adapter"/);
  assert.not.ok(hasStackTrace(bad.stderr), bad.stderr);
});

test.run();
