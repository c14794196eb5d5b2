// LoKr adapters saved by Hugging Face PEFT itself (tests/golden/adapters/lokr-*):
// run here they give transformers' logits and loss, merged here they give
// PEFT's merge_and_unload weights, and unmerging restores the base.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkForwardGolden, checkMergeGolden, goldenDir } from "../../helpers/golden.js";

// lokr-llama: q_proj with both factors full, down_proj with w2 = w2_a·w2_b;
// lokr-both-llama: decompose_both, every factor a rank-2 product.
const CASES = ["lokr-llama", "lokr-both-llama"];

for (const name of CASES) {
  test(`PEFT's ${name} gives transformers' logits and loss here`, async () => {
    const run = await checkForwardGolden(join(goldenDir, "adapters", name), "llama");
    assert.is(run.adapter.adapter.method, "lokr");
  });

  test(`PEFT's ${name} merges here to PEFT's merged weights, and unmerges to the base`, async () => {
    await checkMergeGolden(join(goldenDir, "adapters", name), "llama");
  });
}

test.run();
