// Adapters saved by Hugging Face PEFT itself, run here: the logits and loss
// equal what transformers + PEFT computed from the same files (golden).
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { worstDifference } from "../helpers/compare.js";
import { goldenDir, goldenForward, kindOfCase } from "../helpers/golden.js";

const LORA = ["lora-llama", "lora-dora-rslora-patterns-llama", "lora-gpt2", "lora-regex-qwen2", "lora-layers-llama"];

for (const name of LORA) {
  test(`PEFT's ${name} gives transformers' logits and loss here`, async () => {
    const run = await goldenForward(join(goldenDir, "adapters", name), kindOfCase(name));
    const want = run.expected.read("logits.adapter");
    const { worst, scale } = worstDifference(run.logits, want);
    const change = worstDifference(want, run.expected.read("logits.base")).worst;
    assert.ok(change > 100 * worst, `the adapter changes logits by ${change}, our error is ${worst}`);
    assert.ok(worst / scale < 1e-4, `largest logit difference ${worst} (logits up to ${scale})`);
    const wantLoss = run.expected.read("loss.adapter")[0]!;
    assert.ok(Math.abs(run.loss - wantLoss) / wantLoss < 1e-5, `loss ${run.loss} vs transformers' ${wantLoss}`);
  });
}

test.run();
