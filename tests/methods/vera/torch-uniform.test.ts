// The generic torch_uniform init reproduces PyTorch's CPU generator and
// float32 uniform_ bit for bit: against values torch made (torch-uniform.json,
// from make_torch_uniform.py), and against the projections PEFT itself saved
// in the golden VeRA adapters (made from projection_prng_key 0).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { lowerCausalLM } from "../../../compiler/graph/causal-lm.js";
import { PORTABLE_GPU } from "../../../compiler/codegen/types.js";
import { loadModel } from "../../../compiler/models/load.js";
import { loadPeftAdapters } from "../../../compiler/peft-config/load-adapter.js";
import { initialValues } from "../../../runtime/executor/init.js";
import { Mt19937 } from "../../../runtime/executor/torch-random.js";
import { tinyModel } from "../../helpers/fixtures.js";
import { repoRoot } from "../../helpers/paths.js";

interface Case {
  seed: number;
  bound: number;
  skip: number;
  count: number;
  first: number[];
  sha256: string;
}

const here = join(repoRoot, "tests", "methods", "vera");
const golden = join(repoRoot, "tests", "golden", "adapters");
const { cases } = JSON.parse(readFileSync(join(here, "torch-uniform.json"), "utf8")) as { cases: Case[] };
const noWeights = () => {
  throw new Error("no weight is read");
};

test("MT19937 gives the reference sequence (seed 5489: the 10000th output is 4123659995)", () => {
  const rng = new Mt19937(5489);
  let last = 0;
  for (let i = 0; i < 10000; i++) last = rng.next();
  assert.is(last, 4123659995);
});

for (const c of cases) {
  test(`torch_uniform equals torch: seed ${c.seed}, bound ${c.bound.toFixed(4)}, ${c.skip} draws skipped, ${c.count} values`, () => {
    const values = initialValues({ kind: "torch_uniform", seed: c.seed, bound: c.bound, skip: c.skip }, c.count, 1, "t", noWeights);
    assert.equal([...values.slice(0, c.first.length)], c.first);
    const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    assert.is(createHash("sha256").update(bytes).digest("hex"), c.sha256);
    // The run's seed plays no part: the values are torch's for the tensor's own seed.
    const again = initialValues({ kind: "torch_uniform", seed: c.seed, bound: c.bound, skip: c.skip }, c.count, 99, "other", noWeights);
    assert.equal(again, values);
  });
}

for (const [name, kind] of [["vera-llama", "llama"], ["vera-gpt2", "gpt2"]] as const) {
  test(`fresh projections equal the ones PEFT saved in ${name} (same key, bit for bit)`, () => {
    const model = loadModel(tinyModel(kind));
    const [adapter] = loadPeftAdapters(join(golden, name), model.tree);
    const { graph } = lowerCausalLM({ tree: model.tree, plan: adapter!.plan, batch: 1, seqLen: 4, device: PORTABLE_GPU });
    const frozen = graph.buffers.filter((b) => b.role === "frozen" && b.key);
    assert.equal(frozen.map((b) => b.key).sort(), ["base_model.vera_A", "base_model.vera_B"]);
    for (const b of frozen) {
      const made = initialValues(b.init!, b.size, 1, b.name, noWeights);
      const saved = adapter!.tensors.get(b.key!)!;
      assert.is(made.length, saved.length);
      const differ = made.findIndex((v, i) => v !== saved[i]);
      assert.is(differ, -1, `${b.key}[${differ}]: ${made[differ]} vs PEFT's ${saved[differ]}`);
    }
  });
}

test.run();
