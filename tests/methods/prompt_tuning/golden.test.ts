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
import { lowerCausalLM } from "../../../compiler/graph/causal-lm.js";
import { loadModel } from "../../../compiler/models/load.js";
import { loadPeftAdapters } from "../../../compiler/peft-config/load-adapter.js";
import { readFloat32 } from "../../../runtime/files/checkpoint.js";
import { GraphRunner } from "../../../runtime/executor/graph-runner.js";
import { acquireRuntime } from "../../../runtime/gpu/index.js";
import { idsOf, targetsOf } from "../../../runtime/data/batches.js";
import { goldenDir, kindOfCase, readExpected } from "../../helpers/golden.js";
import { tinyModel } from "../../helpers/fixtures.js";
import { testDevice } from "../../helpers/gpu.js";
import { worstDifference } from "../../helpers/compare.js";

const CASES = ["prompt-tuning-llama", "prompt-tuning-text-qwen2", "prompt-tuning-text-llama", "prompt-tuning-vocab-gpt2", "p-tuning-mlp-llama", "p-tuning-lstm-gpt2"];

for (const name of CASES) {
  test(`PEFT's ${name} gives transformers + PEFT's logits and loss here`, async () => {
    await testDevice();
    const runtime = await acquireRuntime();
    const dir = join(goldenDir, "prompts", name);
    const model = loadModel(tinyModel(kindOfCase(name)));
    const [adapter] = loadPeftAdapters(dir, model.tree);
    const expected = readExpected(join(dir, "expected.safetensors"));
    const ids = expected.ids();
    const B = ids.length;
    const T = ids[0]!.length;
    const { graph, wgsl } = lowerCausalLM({ tree: model.tree, plan: adapter!.plan, batch: B, seqLen: T, device: runtime.profile });
    const n = graph.io.virtualTokens!;
    assert.ok(n > 0, "the graph has virtual tokens");
    const runner = await GraphRunner.create(runtime, graph, wgsl, { weight: (w) => readFloat32(model.checkpoint, w), saved: (k) => adapter!.tensors.get(k), seed: 0 });
    try {
      const sequences = ids.map((row) => ({ ids: Int32Array.from(row), labels: Int32Array.from(row) }));
      const targets = targetsOf(sequences, T, n);
      runner.write("ids", idsOf(sequences, T, n));
      runner.write("labels", targets);
      runner.setScalar("training", 0);
      await runner.run(["eval"]);
      const rows = n + T;
      const V = model.tree.config.vocabSize;
      const losses = new Float32Array(B * rows);
      const logits = new Float32Array(B * rows * V);
      await runner.read(graph.io.loss!, losses);
      await runner.read(graph.io.logits!, logits);
      // The real tokens' rows, as the golden file keeps them.
      const real = new Float32Array(B * T * V);
      for (let b = 0; b < B; b++) real.set(logits.subarray((b * rows + n) * V, (b + 1) * rows * V), b * T * V);
      const want = expected.read("logits.adapter");
      const { worst, scale } = worstDifference(real, want);
      const change = worstDifference(want, expected.read("logits.base")).worst;
      assert.ok(change > 100 * worst, `the prompt changes logits by ${change}, our error is ${worst}`);
      assert.ok(worst / scale < 1e-4, `largest logit difference ${worst} (logits up to ${scale})`);
      let sum = 0;
      let count = 0;
      targets.forEach((t, i) => {
        if (t >= 0) {
          sum += losses[i]!;
          count++;
        }
      });
      assert.is(count, B * T, "every real token is predicted, the first by the last virtual token");
      const wantLoss = expected.read("loss.adapter")[0]!;
      assert.ok(Math.abs(sum / count - wantLoss) / wantLoss < 1e-5, `loss ${sum / count} vs PEFT's ${wantLoss}`);
    } finally {
      runner.destroy();
    }
  });
}

test.run();
