// KV-cached decoding gives, at every step, the logits a full forward of the
// whole sequence so far gives (relative 1e-4), for Llama (GQA), Qwen2 (q/k/v
// biases, tied embeddings) and GPT-2 (learned positions), with and without a
// PEFT-saved LoRA adapter. Two prompts of different lengths share a batch and
// are prefilled in several chunks (left padding), so per-row positions, the
// chunked prefill and the cache appends are all exercised.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { LoadedAdapter } from "../../compiler/peft-config/load-adapter.js";
import type { Plan } from "../../compiler/resolve/plan-types.js";
import { tinyModel } from "../helpers/fixtures.js";
import { randomIds } from "../helpers/graph.js";
import { argmax, basePlan, decodeSession, fullForward, loadFixture, loadGolden, relativeMax } from "./helpers.js";

const CASES = [
  { kind: "llama", adapter: "lora-llama" },
  { kind: "qwen2", adapter: "lora-regex-qwen2" },
  { kind: "gpt2", adapter: "lora-gpt2" },
] as const;
const STEPS = 3;
const BOUND = 1e-4;

for (const { kind, adapter } of CASES) {
  for (const withAdapter of [false, true]) {
    test(`${kind}${withAdapter ? ` + ${adapter}` : ""}: every cached decoding step gives the full forward's logits`, async () => {
      const model = loadFixture(tinyModel(kind));
      const vocab = model.tree.config.vocabSize;
      let plan: Plan = basePlan(model);
      let adapters: LoadedAdapter[] = [];
      if (withAdapter) ({ plan, adapters } = loadGolden(model, [{ name: "default", dir: adapter }]));
      const session = await decodeSession(model, plan, adapters, { batch: 2, chunk: 2, capacity: 16 });
      try {
        const seed = Math.floor(Math.random() * 2 ** 31);
        // 3 and 5 tokens in chunks of 2: three prefill runs, the shorter prompt left-padded by two.
        const prompts = [randomIds(1, 3, vocab, seed)[0]!, randomIds(1, 5, vocab, seed + 1)[0]!];
        const sequences = prompts.map((p) => [...p]);
        const steps: Float32Array[] = [Float32Array.from(await session.prefill(prompts))];
        for (let s = 0; s < STEPS; s++) {
          const last = steps[steps.length - 1]!;
          // Greedy continuation, so the sequences are ones the model would write.
          const next = sequences.map((_, b) => argmax(last.subarray(b * vocab, (b + 1) * vocab)));
          next.forEach((t, b) => sequences[b]!.push(t));
          steps.push(Float32Array.from(await session.decode(next, sequences.map((q) => q.length - 1))));
        }
        // Rows of 6 and 8 tokens: the golden tests' 2 × 8 shapes.
        const { logits: full, T } = await fullForward(model, plan, adapters, sequences);
        steps.forEach((logits, s) => {
          sequences.forEach((_, b) => {
            const position = prompts[b]!.length - 1 + s;
            const want = full.subarray((b * T + position) * vocab, (b * T + position + 1) * vocab);
            const got = logits.subarray(b * vocab, (b + 1) * vocab);
            const error = relativeMax(got, want);
            assert.ok(error <= BOUND, `row ${b}, step ${s} (position ${position}): relative error ${error.toExponential(2)} (seed ${seed})`);
          });
        });
      } finally {
        session.runner.destroy();
      }
    });
  }
}

test.run();
