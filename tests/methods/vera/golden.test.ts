// VeRA adapters saved by Hugging Face PEFT, run and merged here: the logits
// and loss equal transformers + PEFT's (golden), the merged weights equal
// PEFT's merge_and_unload, and unmerging restores the base weights.
// vera-llama: q/v (one input width); vera-gpt2: Conv1D layers of three shapes
// (corners of the projections); vera-noproj-llama: save_projection=False, so
// the projections are regenerated here from projection_prng_key as torch does.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { lowerCausalLM } from "../../../compiler/graph/causal-lm.js";
import { lowerMerge } from "../../../compiler/graph/merge.js";
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
const CASES = [["vera-llama", "llama"], ["vera-gpt2", "gpt2"], ["vera-noproj-llama", "llama"]] as const;

function open(name: string, kind: "llama" | "gpt2") {
  const model = loadModel(tinyModel(kind));
  const [adapter] = loadPeftAdapters(join(golden, name), model.tree);
  const expected = SafetensorsFile.open(join(golden, name, "expected.safetensors"));
  const read = (key: string) => toFloat32(readTensorBytes(expected.tensors.get(key)!), expected.tensors.get(key)!.dtype);
  return { model, adapter: adapter!, expected, read };
}

function relativeError(got: Float32Array, want: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < want.length; i++) {
    diff += (got[i]! - want[i]!) ** 2;
    norm += want[i]! ** 2;
  }
  return Math.sqrt(diff / norm);
}

for (const [name, kind] of CASES) {
  test(`PEFT's ${name} gives transformers' logits and loss here`, async () => {
    await testDevice();
    const runtime = await acquireRuntime();
    const { model, adapter, expected, read } = open(name, kind);
    if (name.includes("noproj")) assert.ok(!adapter.tensors.has("base_model.vera_A"), "the file has no projections: they must be regenerated");
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
    await testDevice();
    const runtime = await acquireRuntime();
    const { model, adapter, expected } = open(name, kind);
    const want = new Map([...expected.tensors].filter(([k]) => k.startsWith("merged.")).map(([k, info]) => [k.slice("merged.".length), toFloat32(readTensorBytes(info), info.dtype)]));
    const { graph, wgsl, merged } = lowerMerge({ tree: model.tree, adapters: [{ adapter: adapter.adapter, scale: 1 }], device: runtime.profile });
    const runner = await GraphRunner.create(runtime, graph, wgsl, { weight: (n) => readFloat32(model.checkpoint, n), saved: (k) => adapter.tensors.get(k), seed: 0 });
    try {
      await runner.run(["merge"]);
      const changed = merged.filter((m) => want.has(m.tensor));
      assert.equal(changed.map((m) => m.tensor).sort(), [...want.keys()].sort());
      for (const m of changed) {
        const got = new Float32Array(want.get(m.tensor)!.length);
        await runner.read(m.buffer, got);
        const base = readFloat32(model.checkpoint, m.tensor);
        // The merge moves the weight well beyond the tolerance (so the check can fail).
        assert.ok(relativeError(base, want.get(m.tensor)!) > 1e-3, `${m.tensor}: PEFT's merge barely changes it`);
        const error = relativeError(got, want.get(m.tensor)!);
        assert.ok(error <= 1e-5, `${m.tensor}: relative error ${error}`);
      }
      await runner.run(["unmerge"]);
      for (const m of merged) {
        const base = readFloat32(model.checkpoint, m.tensor);
        const got = new Float32Array(base.length);
        await runner.read(m.buffer, got);
        const scale = Math.max(...base.map(Math.abs));
        const worst = Math.max(...got.map((v, i) => Math.abs(v - base[i]!)));
        // A few roundings of the merged value: ~1e-7 of the weights' scale.
        assert.ok(worst <= 4e-7 * scale * 8, `${m.tensor}: unmerged differs from the base by ${worst} (scale ${scale})`);
      }
    } finally {
      runner.destroy();
    }
  });
}

test.run();
