// LoHa adapters saved by Hugging Face PEFT, run and merged here: the logits
// equal what transformers + PEFT computed from the same files (through both
// of the layer's paths: low-rank at the golden batch, materialised at the
// batch repeated four times), merging gives PEFT's merge_and_unload weights,
// and unmerging restores the base.
import { checkMergeGolden, goldenDir } from "../../helpers/golden.js";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { lowerCausalLM } from "../../../compiler/graph/causal-lm.js";
import { loadModel } from "../../../compiler/models/load.js";
import { loadPeftAdapters } from "../../../compiler/peft-config/load-adapter.js";
import { readFloat32 } from "../../../runtime/files/checkpoint.js";
import { SafetensorsFile, readTensorBytes, toFloat32 } from "../../../runtime/files/safetensors.js";
import { GraphRunner } from "../../../runtime/executor/graph-runner.js";
import { acquireRuntime } from "../../../runtime/gpu/index.js";
import { testDevice } from "../../helpers/gpu.js";
import { tinyModel } from "../../helpers/fixtures.js";
import { inputsOf } from "../../helpers/graph.js";
import { repoRoot } from "../../helpers/paths.js";

const golden = join(repoRoot, "tests", "golden", "adapters", "loha-llama");

function expected() {
  const file = SafetensorsFile.open(join(golden, "expected.safetensors"));
  const read = (key: string) => toFloat32(readTensorBytes(file.tensors.get(key)!), file.tensors.get(key)!.dtype);
  return { file, read };
}

for (const repeat of [1, 4]) {
  const path = repeat === 1 ? "low-rank" : "materialised";
  test(`PEFT's loha-llama gives transformers' logits and loss here (${path} path, batch ×${repeat})`, async () => {
    await testDevice();
    const runtime = await acquireRuntime();
    const model = loadModel(tinyModel("llama"));
    const [adapter] = loadPeftAdapters(golden, model.tree);
    const { file, read } = expected();
    const [B0, T] = file.tensors.get("input_ids")!.shape as [number, number];
    const flat = [...read("input_ids")];
    const rows = Array.from({ length: B0 }, (_, b) => flat.slice(b * T, (b + 1) * T));
    const ids = Array.from({ length: repeat }, () => rows).flat();
    const B = ids.length;
    const { graph, wgsl } = lowerCausalLM({ tree: model.tree, plan: adapter!.plan, batch: B, seqLen: T, device: runtime.profile });
    // Every adapted layer took the path this case is about, and its label says so.
    const labels = graph.phases.eval.map((op) => op.label).filter((l) => l.includes(" loha "));
    assert.ok(labels.length > 0);
    assert.ok(labels.every((l) => l.includes(` loha ${path}`)), labels.find((l) => !l.includes(` loha ${path}`)));
    const runner = await GraphRunner.create(runtime, graph, wgsl, { weight: (n) => readFloat32(model.checkpoint, n), saved: (k) => adapter!.tensors.get(k), seed: 0 });
    const inputs = inputsOf(ids);
    runner.write("ids", inputs.ids);
    runner.write("labels", inputs.targets);
    await runner.run(["eval"]);
    const V = model.tree.config.vocabSize;
    const loss = new Float32Array(B * T);
    const logits = new Float32Array(B * T * V);
    await runner.read("loss", loss);
    await runner.read(graph.io.logits!, logits);
    runner.destroy();
    const want = read("logits.adapter");
    const base = read("logits.base");
    let worst = 0;
    let change = 0;
    for (let i = 0; i < logits.length; i++) {
      const j = i % want.length; // the batch repeated: row b is golden row b mod B0
      worst = Math.max(worst, Math.abs(logits[i]! - want[j]!));
      change = Math.max(change, Math.abs(want[j]! - base[j]!));
    }
    const scale = Math.max(...want.map(Math.abs));
    assert.ok(change > 100 * worst, `the adapter changes logits by ${change}, our error is ${worst}`);
    assert.ok(worst / scale < 1e-4, `largest logit difference ${worst} (logits up to ${scale})`);
    const mean = loss.reduce((a, b) => a + b, 0) / (B * (T - 1));
    const wantLoss = read("loss.adapter")[0]!;
    assert.ok(Math.abs(mean - wantLoss) / wantLoss < 1e-5, `loss ${mean} vs transformers' ${wantLoss}`);
  });
}


test("PEFT's loha-llama merges here to PEFT's merged weights, and unmerges to the base", async () => {
  await checkMergeGolden(join(goldenDir, "adapters", "loha-llama"), "llama");
});

test.run();
