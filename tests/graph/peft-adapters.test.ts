// Adapters saved by Hugging Face PEFT itself, run here: the logits and loss
// equal what transformers + PEFT computed from the same files (golden).
import { join } from "node:path";
import { test } from "uvu";
import { checkForwardGolden, goldenDir, kindOfCase } from "../helpers/golden.js";

const LORA = ["lora-llama", "lora-dora-rslora-patterns-llama", "lora-gpt2", "lora-regex-qwen2", "lora-layers-llama", "lora-embed-llama", "lora-embed-gpt2"];

for (const name of LORA) {
  test(`PEFT's ${name} gives transformers' logits and loss here`, async () => {
    await checkForwardGolden(join(goldenDir, "adapters", name), kindOfCase(name));
  });
}

test.run();
