// The GPU forward of the fixture models against the float64 reference, and
// the reference against Hugging Face transformers' own logits (golden files).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModel } from "../../compiler/models/load.js";
import { SafetensorsFile, readTensorBytes, toFloat32 } from "../../runtime/files/safetensors.js";
import { referenceLogits, referenceLoss } from "../reference/model.js";
import { baseWeights, graphFor, inputsOf, randomIds } from "../helpers/graph.js";
import { tinyModel } from "../helpers/fixtures.js";
import { repoRoot } from "../helpers/paths.js";

const kinds = ["llama", "qwen2", "gpt2"] as const;

for (const kind of kinds) {
  test(`${kind}: the base model's GPU eval loss equals the float64 reference to 1e-4`, async () => {
    const dir = tinyModel(kind);
    const { model, runner } = await graphFor(dir, "", { batch: 2, seqLen: 12 });
    const ids = randomIds(2, 12, model.tree.config.vocabSize, 7);
    const inputs = inputsOf(ids);
    runner.write("ids", inputs.ids);
    runner.write("labels", inputs.targets);
    await runner.run(["eval"]);
    const loss = new Float32Array(24);
    await runner.read("loss", loss);
    runner.destroy();
    const reference = referenceLoss(model.tree, baseWeights(loadModel(dir)), ids);
    const gpu = loss.reduce((a, b) => a + b, 0) / 22;
    // Relative 1e-4: float32 accumulation over a few thousand terms per logit.
    assert.ok(Math.abs(gpu - reference.mean) / reference.mean < 1e-4, `gpu ${gpu} vs reference ${reference.mean}`);
    for (let t = 0; t < 24; t++) {
      assert.ok(Math.abs(loss[t]! - reference.perToken[t]!) <= 1e-4 * Math.max(1, reference.perToken[t]!), `token ${t}: ${loss[t]} vs ${reference.perToken[t]}`);
    }
  });
}

const golden = join(repoRoot, "tests", "golden", "adapters");
for (const kind of kinds) {
  test(`${kind}: the float64 reference's logits equal transformers' (golden)`, () => {
    const name = readdirSync(golden).find((n) => n.endsWith(kind))!;
    const expected = SafetensorsFile.open(join(golden, name, "expected.safetensors"));
    const read = (key: string) => toFloat32(readTensorBytes(expected.tensors.get(key)!), expected.tensors.get(key)!.dtype);
    const idsInfo = expected.tensors.get("input_ids")!;
    const flat = [...read("input_ids")];
    const [B, T] = idsInfo.shape as [number, number];
    const ids = Array.from({ length: B }, (_, b) => flat.slice(b * T, (b + 1) * T));
    const dir = tinyModel(kind);
    const logits = referenceLogits(loadModel(dir).tree, baseWeights(loadModel(dir)), ids);
    const want = read("logits.base");
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(logits[i]! - want[i]!));
      scale = Math.max(scale, Math.abs(want[i]!));
    }
    // transformers computes RMSNorm and RoPE in float32 even in a float64 model, so
    // its logits carry float32 rounding of the normalised activations: about 1e-6 of their scale.
    assert.ok(worst / scale < 1e-5, `largest difference ${worst} for logits up to ${scale}`);
  });
}

test.run();
