// LoKr adapters saved by Hugging Face PEFT itself (tests/golden/adapters/lokr-*):
// run here they give transformers' logits and loss, merged here they give
// PEFT's merge_and_unload weights, and unmerging restores the base.
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

const golden = join(repoRoot, "tests", "golden", "adapters");
// lokr-llama: q_proj with both factors full, down_proj with w2 = w2_a·w2_b;
// lokr-both-llama: decompose_both, every factor a rank-2 product.
const CASES = ["lokr-llama", "lokr-both-llama"];

function load(name: string) {
  const model = loadModel(tinyModel("llama"));
  const [adapter] = loadPeftAdapters(join(golden, name), model.tree);
  const expected = SafetensorsFile.open(join(golden, name, "expected.safetensors"));
  const read = (key: string) => toFloat32(readTensorBytes(expected.tensors.get(key)!), expected.tensors.get(key)!.dtype);
  return { model, adapter: adapter!, expected, read };
}


for (const name of CASES) {
  test(`PEFT's ${name} gives transformers' logits and loss here`, async () => {
    await testDevice();
    const runtime = await acquireRuntime();
    const { model, adapter, expected, read } = load(name);
    assert.is(adapter.plan.adapters[0]!.method, "lokr");
    const [B, T] = expected.tensors.get("input_ids")!.shape as [number, number];
    const flat = [...read("input_ids")];
    const ids = Array.from({ length: B }, (_, b) => flat.slice(b * T, (b + 1) * T));
    const { graph, wgsl } = lowerCausalLM({ tree: model.tree, plan: adapter.plan, batch: B, seqLen: T, device: runtime.profile });
    const runner = await GraphRunner.create(runtime, graph, wgsl, { weight: (n) => readFloat32(model.checkpoint, n), saved: (k) => adapter.tensors.get(k), seed: 0 });
    const inputs = inputsOf(ids);
    runner.write("ids", inputs.ids);
    runner.write("labels", inputs.targets);
    await runner.run(["eval"]);
    const loss = new Float32Array(B * T);
    const logits = new Float32Array(B * T * model.tree.config.vocabSize);
    await runner.read("loss", loss);
    await runner.read(graph.io.logits!, logits);
    runner.destroy();
    const want = read("logits.adapter");
    const base = read("logits.base");
    let worst = 0;
    let change = 0;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(logits[i]! - want[i]!));
      change = Math.max(change, Math.abs(want[i]! - base[i]!));
    }
    const scale = Math.max(...want.map(Math.abs));
    assert.ok(change > 100 * worst, `the adapter changes logits by ${change}, our error is ${worst}`);
    assert.ok(worst / scale < 1e-4, `largest logit difference ${worst} (logits up to ${scale})`);
    const mean = loss.reduce((a, b) => a + b, 0) / (B * (T - 1));
    const wantLoss = read("loss.adapter")[0]!;
    assert.ok(Math.abs(mean - wantLoss) / wantLoss < 1e-5, `loss ${mean} vs transformers' ${wantLoss}`);
  });

  test(`PEFT's ${name} merges here to PEFT's merged weights, and unmerges to the base`, async () => {
    await checkMergeGolden(join(goldenDir, "adapters", name), "llama");
  });
}

test.run();
