// Adapters saved by Hugging Face PEFT itself load here: config read, keys and
// shapes matched to the plan on the same model.
import { readdirSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { UserError } from "../../compiler/errors.js";
import { loadModel } from "../../compiler/models/load.js";
import { loadPeftAdapters } from "../../compiler/peft-config/load-adapter.js";
import { encodeSafetensors, fromFloat32 } from "../../runtime/files/safetensors.js";
import { scratchDir, tinyModel } from "../helpers/fixtures.js";
import { repoRoot } from "../helpers/paths.js";

const golden = join(repoRoot, "tests", "golden", "adapters");
const modelOf = (name: string) => tinyModel(name.endsWith("gpt2") ? "gpt2" : name.endsWith("qwen2") ? "qwen2" : "llama");

for (const name of readdirSync(golden).sort()) {
  test(`PEFT's saved adapter loads: ${name}`, () => {
    const [loaded] = loadPeftAdapters(join(golden, name), loadModel(modelOf(name)).tree);
    assert.ok(loaded);
    assert.equal(loaded!.warnings, []);
    const saved = [...loaded!.adapter.modules.flatMap((m) => m.tensors), ...loaded!.adapter.tensors].filter((t) => t.saved);
    assert.ok(saved.length > 0, "the plan expects no saved tensor");
    for (const t of saved) {
      if (t.key.includes(".base_layer.")) continue;
      const values = loaded!.tensors.get(t.key);
      assert.ok(values, `missing ${t.key}`);
      assert.is(values!.length, t.shape.reduce((a, b) => a * b, 1));
      assert.ok(values!.some((v) => v !== 0), `${t.key} is all zeros`);
    }
  });
}

test("a saved tensor that fits no module, or has the wrong shape, is an error naming both", () => {
  const dir = scratchDir("bad-adapter");
  const source = join(golden, "lora-llama");
  const copy = (keyName: string, shape: number[]) => {
    const target = join(dir, `${keyName.replace(/\W/g, "_")}-${shape.join("x")}`);
    mkdirSync(target);
    copyFileSync(join(source, "adapter_config.json"), join(target, "adapter_config.json"));
    writeFileSync(join(target, "adapter_model.safetensors"), encodeSafetensors([
      { name: keyName, dtype: "F32", shape, data: fromFloat32(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5), "F32") },
    ]));
    return target;
  };
  const tree = loadModel(tinyModel("llama")).tree;
  assert.throws(() => loadPeftAdapters(copy("base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight", [4, 64]), tree),
    (e: Error) => e instanceof UserError && /tensor 'base_model\.model\.model\.layers\.9\.self_attn\.q_proj\.lora_A\.weight' maps to no module/.test(e.message));
  assert.throws(() => loadPeftAdapters(copy("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", [3, 64]), tree),
    (e: Error) => e instanceof UserError && /has shape \[3, 64\] but the module needs \[4, 64\]/.test(e.message));
  assert.throws(() => loadPeftAdapters(join(dir, "nowhere"), tree), /no such adapter directory/);
});

test.run();
