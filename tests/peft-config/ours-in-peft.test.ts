// Adapters trained and saved by peftc, loaded by Hugging Face PEFT
// (tests/golden/make_ours.py checked that every saved tensor landed in its PEFT
// parameter and recorded PEFT's logits): peftc's forward with the same files
// gives PEFT's logits, so both sides read the files the same way.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { lowerCausalLM } from "../../compiler/graph/causal-lm.js";
import { loadModel } from "../../compiler/models/load.js";
import { loadPeftAdapters } from "../../compiler/peft-config/load-adapter.js";
import { readFloat32 } from "../../runtime/files/checkpoint.js";
import { SafetensorsFile, readTensorBytes, toFloat32 } from "../../runtime/files/safetensors.js";
import { GraphRunner } from "../../runtime/executor/graph-runner.js";
import { acquireRuntime } from "../../runtime/gpu/index.js";
import { testDevice } from "../helpers/gpu.js";
import { tinyModel } from "../helpers/fixtures.js";
import { inputsOf } from "../helpers/graph.js";
import { repoRoot } from "../helpers/paths.js";

const ours = join(repoRoot, "tests", "golden", "ours");

for (const name of readdirSync(ours).sort()) {
  test(`peftc's ${name}, as PEFT loaded it, gives PEFT's logits here`, async () => {
    await testDevice();
    const runtime = await acquireRuntime();
    const kind = name.endsWith("gpt2") ? "gpt2" : name.includes("qwen2") ? "qwen2" : "llama";
    const model = loadModel(tinyModel(kind));
    const [adapter] = loadPeftAdapters(join(ours, name), model.tree);
    const expected = SafetensorsFile.open(join(ours, name, "expected.safetensors"));
    const read = (key: string) => toFloat32(readTensorBytes(expected.tensors.get(key)!), expected.tensors.get(key)!.dtype);
    const [B, T] = expected.tensors.get("input_ids")!.shape as [number, number];
    const flat = [...read("input_ids")];
    const ids = Array.from({ length: B }, (_, b) => flat.slice(b * T, (b + 1) * T));
    const { graph, wgsl } = lowerCausalLM({ tree: model.tree, plan: adapter!.plan, batch: B, seqLen: T, device: runtime.profile });
    const runner = await GraphRunner.create(runtime, graph, wgsl, { weight: (n) => readFloat32(model.checkpoint, n), saved: (k) => adapter!.tensors.get(k), seed: 0 });
    try {
      const inputs = inputsOf(ids);
      runner.write("ids", inputs.ids);
      runner.write("labels", inputs.targets);
      runner.setScalar("training", 0);
      await runner.run(["eval"]);
      const logits = new Float32Array(B * T * model.tree.config.vocabSize);
      await runner.read(graph.io.logits!, logits);
      const want = read("logits.adapter");
      const scale = Math.max(...want.map(Math.abs));
      const worst = Math.max(...logits.map((v, i) => Math.abs(v - want[i]!)));
      assert.ok(worst / scale < 1e-4, `largest logit difference ${worst} (logits up to ${scale})`);
    } finally {
      runner.destroy();
    }
  });
}

test.run();
