// Prompt-method adapters saved by Hugging Face PEFT (tests/golden/prompts,
// made by make_prompts.py), run here: the logits of the real tokens and the
// loss (the last virtual token predicting the first real one, as PEFT's −100
// prefix labels make it) equal transformers + PEFT's, on Llama with grouped
// query heads (F32), Qwen2 tied (BF16) and GPT-2 (F16, learned positions over
// the virtual tokens too). P-tuning adapters save their encoder's output, so
// they run the same way.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkForwardGolden, goldenDir, kindOfCase } from "../../helpers/golden.js";

const CASES = ["prompt-tuning-llama", "prompt-tuning-text-qwen2", "prompt-tuning-text-llama", "prompt-tuning-vocab-gpt2", "p-tuning-mlp-llama", "p-tuning-lstm-gpt2"];

for (const name of CASES) {
  test(`PEFT's ${name} gives transformers + PEFT's logits and loss here`, async () => {
    const run = await checkForwardGolden(join(goldenDir, "prompts", name), kindOfCase(name));
    const [B, T] = [run.expected.ids().length, run.expected.ids()[0]!.length];
    assert.is(run.predicted, B * T, "every real token is predicted, the first by the last virtual token");
  });
}

test.run();
