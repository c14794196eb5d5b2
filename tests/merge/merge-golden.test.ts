// Merging on the GPU: adapters saved by Hugging Face PEFT, merged here, give
// the weights PEFT's merge_and_unload gives (golden, float64 in PEFT), and
// unmerging restores the base weights to float32 rounding.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { lowerMerge } from "../../compiler/graph/merge.js";
import { loadModel } from "../../compiler/models/load.js";
import { loadPeftAdapters } from "../../compiler/peft-config/load-adapter.js";
import { readFloat32 } from "../../runtime/files/checkpoint.js";
import { SafetensorsFile, readTensorBytes, toFloat32 } from "../../runtime/files/safetensors.js";
import { GraphRunner } from "../../runtime/executor/graph-runner.js";
import { acquireRuntime } from "../../runtime/gpu/index.js";
import { testDevice } from "../helpers/gpu.js";
import { tinyModel } from "../helpers/fixtures.js";
import { repoRoot } from "../helpers/paths.js";
import { relativeError } from "../helpers/compare.js";

const golden = join(repoRoot, "tests", "golden", "adapters");
const LORA = ["lora-llama", "lora-dora-rslora-patterns-llama", "lora-gpt2", "lora-regex-qwen2", "lora-layers-llama"];


for (const name of LORA) {
  test(`PEFT's ${name} merges here to PEFT's merged weights, and unmerges to the base`, async () => {
    await testDevice();
    const runtime = await acquireRuntime();
    const kind = name.endsWith("gpt2") ? "gpt2" : name.endsWith("qwen2") ? "qwen2" : "llama";
    const model = loadModel(tinyModel(kind));
    const [adapter] = loadPeftAdapters(join(golden, name), model.tree);
    const expected = SafetensorsFile.open(join(golden, name, "expected.safetensors"));
    const want = new Map([...expected.tensors].filter(([k]) => k.startsWith("merged.")).map(([k, info]) => [k.slice("merged.".length), toFloat32(readTensorBytes(info), info.dtype)]));
    const { graph, wgsl, merged } = lowerMerge({ tree: model.tree, adapters: [{ adapter: adapter!.adapter, scale: 1 }], device: runtime.profile });
    const runner = await GraphRunner.create(runtime, graph, wgsl, { weight: (n) => readFloat32(model.checkpoint, n), saved: (k) => adapter!.tensors.get(k), seed: 0 });
    try {
      await runner.run(["merge"]);
      const changed = merged.filter((m) => want.has(m.tensor));
      // Every weight PEFT changed is changed here (biases are carried along unchanged).
      assert.equal(changed.map((m) => m.tensor).sort(), [...want.keys()].sort());
      for (const m of changed) {
        const got = new Float32Array(want.get(m.tensor)!.length);
        await runner.read(m.buffer, got);
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
