// VeRA adapters saved by Hugging Face PEFT, run and merged here: the logits
// and loss equal transformers + PEFT's (golden), the merged weights equal
// PEFT's merge_and_unload, and unmerging restores the base weights.
// vera-llama: q/v (one input width); vera-gpt2: Conv1D layers of three shapes
// (corners of the projections); vera-noproj-llama: save_projection=False, so
// the projections are regenerated here from projection_prng_key as torch does.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkForwardGolden, checkMergeGolden, goldenDir } from "../../helpers/golden.js";

const CASES = [["vera-llama", "llama"], ["vera-gpt2", "gpt2"], ["vera-noproj-llama", "llama"]] as const;

for (const [name, kind] of CASES) {
  test(`PEFT's ${name} gives transformers' logits and loss here`, async () => {
    const run = await checkForwardGolden(join(goldenDir, "adapters", name), kind);
    if (name.includes("noproj")) assert.ok(!run.adapter.tensors.has("base_model.vera_A"), "the file has no projections: they must be regenerated");
  });

  test(`PEFT's ${name} merges here to PEFT's merged weights, and unmerges to the base`, async () => {
    await checkMergeGolden(join(goldenDir, "adapters", name), kind);
  });
}

test.run();
