// Merging on the GPU: adapters saved by Hugging Face PEFT, merged here, give
// the weights PEFT's merge_and_unload gives (golden, float64 in PEFT), and
// unmerging restores the base weights to float32 rounding.
import { join } from "node:path";
import { test } from "uvu";
import { checkMergeGolden, goldenDir, kindOfCase } from "../helpers/golden.js";

const LORA = ["lora-llama", "lora-dora-rslora-patterns-llama", "lora-gpt2", "lora-regex-qwen2", "lora-layers-llama", "lora-embed-llama", "lora-embed-gpt2"];

for (const name of LORA) {
  test(`PEFT's ${name} merges here to PEFT's merged weights, and unmerges to the base`, async () => {
    await checkMergeGolden(join(goldenDir, "adapters", name), kindOfCase(name));
  });
}

test.run();
