// Combining LoRA adapters (peftc combine, merge --combine) gives what Hugging
// Face PEFT's add_weighted_adapter gives: the same config, the same tensors for
// cat and linear, and the same ΔW for svd (whose factors are unique only up to
// sign), on adapters PEFT saved itself (tests/golden/make_combine.py). IA3
// adapters combine as PEFT's IA3 add_weighted_adapter: weighted vector sums.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModel } from "../../compiler/models/load.js";
import { combineAdapters } from "../../compiler/peft-config/combine-adapters.js";
import { loadPeftAdapters } from "../../compiler/peft-config/load-adapter.js";
import { SafetensorsFile, readTensorBytes, toFloat32 } from "../../runtime/files/safetensors.js";
import { peftc } from "../helpers/cli.js";
import { scratchDir, tinyModel } from "../helpers/fixtures.js";
import { repoRoot } from "../helpers/paths.js";
import { relativeError } from "../helpers/compare.js";

const golden = join(repoRoot, "tests", "golden");
const expected = SafetensorsFile.open(join(golden, "combine", "expected.safetensors"));
const read = (file: SafetensorsFile, key: string) => toFloat32(readTensorBytes(file.tensors.get(key)!), file.tensors.get(key)!.dtype);
const model = loadModel(tinyModel("llama"));
const load = (dir: string) => loadPeftAdapters(dir, model.tree, { topOnly: true })[0]!;

const cases = {
  cat: { dirs: [join(golden, "adapters", "lora-layers-llama"), join(golden, "adapters", "lora-llama")], weights: [0.7, -0.3], svdRank: undefined },
  svd: { dirs: [join(golden, "adapters", "lora-layers-llama"), join(golden, "adapters", "lora-llama")], weights: [0.7, -0.3], svdRank: 3 },
  linear: { dirs: [join(golden, "adapters", "lora-llama"), join(golden, "combine", "second")], weights: [0.6, 0.5], svdRank: undefined },
} as const;


/** ΔW = s·B·A of a saved LoRA module, in float64. */
function delta(A: ArrayLike<number>, B: ArrayLike<number>, r: number, inF: number, outF: number, s: number): Float64Array {
  const out = new Float64Array(outF * inF);
  for (let o = 0; o < outF; o++) for (let k = 0; k < r; k++) for (let i = 0; i < inF; i++) out[o * inF + i]! += s * B[o * r + k]! * A[k * inF + i]!;
  return out;
}

for (const [how, c] of Object.entries(cases)) {
  test(`${how}: config, tensors and ΔW as PEFT's add_weighted_adapter`, () => {
    const combined = combineAdapters(model.tree, c.dirs.map((d, i) => ({ loaded: load(d), weight: c.weights[i]! })), how as "cat", c.svdRank);
    const peftConfig = JSON.parse(readFileSync(join(golden, "combine", how, "adapter_config.json"), "utf8"));
    const ours = JSON.parse(combined.configText);
    // target_modules is a Python set: its saved order is arbitrary.
    assert.equal([...ours.target_modules].sort(), [...peftConfig.target_modules].sort());
    assert.equal({ ...ours, target_modules: null }, { ...peftConfig, target_modules: null });
    const peftFile = SafetensorsFile.open(join(golden, "combine", how, "adapter_model.safetensors"));
    assert.equal([...combined.tensors.keys()].sort(), [...peftFile.tensors.keys()].sort());
    const s = ours.lora_alpha / ours.r;
    for (const m of combined.plan.modules) {
      const A = combined.tensors.get(`base_model.model.${m.path}.lora_A.weight`)!;
      const B = combined.tensors.get(`base_model.model.${m.path}.lora_B.weight`)!;
      assert.equal(A.shape, peftFile.tensors.get(`base_model.model.${m.path}.lora_A.weight`)!.shape);
      if (how !== "svd") {
        for (const [key, t] of [[`base_model.model.${m.path}.lora_A.weight`, A], [`base_model.model.${m.path}.lora_B.weight`, B]] as const) {
          const e = relativeError(t.data, read(peftFile, key));
          assert.ok(e <= 1e-6, `${key}: relative error ${e}`);
        }
      }
      const want = read(expected, `delta.${how}.${m.path}`);
      const got = delta(A.data, B.data, ours.r, m.inFeatures, m.outFeatures, s);
      const e = relativeError(got, want);
      assert.ok(e <= 1e-5, `${m.path} ΔW: relative error ${e}`);
    }
  });
}

test("peftc combine writes the combined adapter PEFT would save; linear needs equal ranks", () => {
  const dir = scratchDir("combine");
  const c = cases.cat;
  const out = join(dir, "cat");
  const run = peftc(["combine", ...c.dirs.flatMap((d, i) => ["--adapter", d, "--weight", String(c.weights[i])]), "--combine", "cat", "-o", out]);
  assert.is(run.status, 0, run.stderr);
  const file = SafetensorsFile.open(join(out, "adapter_model.safetensors"));
  const peftFile = SafetensorsFile.open(join(golden, "combine", "cat", "adapter_model.safetensors"));
  for (const [key, info] of peftFile.tensors) {
    assert.equal(file.tensors.get(key)?.shape, info.shape, key);
    assert.ok(relativeError(read(file, key), read(peftFile, key)) <= 1e-6, key);
  }
  // Linear needs equal ranks, as in PEFT.
  const bad = peftc(["combine", ...c.dirs.flatMap((d) => ["--adapter", d]), "--combine", "linear", "-o", join(dir, "bad")]);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, "equal ranks");
});

test("IA3: config and vectors as PEFT's IA3 add_weighted_adapter (Σ wᵢ·lᵢ, targets and feed-forward modules united)", () => {
  const dirs = [join(golden, "adapters", "ia3-llama"), join(golden, "combine", "ia3-second")];
  const combined = combineAdapters(model.tree, dirs.map((d, i) => ({ loaded: load(d), weight: [0.6, -0.5][i]! })), "linear", undefined);
  const peftConfig = JSON.parse(readFileSync(join(golden, "combine", "ia3", "adapter_config.json"), "utf8"));
  const ours = JSON.parse(combined.configText);
  for (const field of ["target_modules", "feedforward_modules"]) assert.equal([...ours[field]].sort(), [...peftConfig[field]].sort(), field);
  assert.equal({ ...ours, target_modules: null, feedforward_modules: null }, { ...peftConfig, target_modules: null, feedforward_modules: null });
  const peftFile = SafetensorsFile.open(join(golden, "combine", "ia3", "adapter_model.safetensors"));
  assert.equal([...combined.tensors.keys()].sort(), [...peftFile.tensors.keys()].sort());
  // Modules in one adapter only (v_proj, up_proj) take its weighted vector; those in both, the sum.
  for (const [key, t] of combined.tensors) {
    assert.equal(t.shape, peftFile.tensors.get(key)!.shape, key);
    const e = relativeError(t.data, read(peftFile, key));
    assert.ok(e <= 1e-6, `${key}: relative error ${e}`);
  }
  // The command, without the model (shapes from the files), writes the same adapter.
  const dir = scratchDir("ia3-combine");
  const run = peftc(["combine", ...dirs.flatMap((d, i) => ["--adapter", d, "--weight", String([0.6, -0.5][i])]), "--combine", "linear", "-o", join(dir, "ia3")]);
  assert.is(run.status, 0, run.stderr);
  const file = SafetensorsFile.open(join(dir, "ia3", "adapter_model.safetensors"));
  for (const [key, info] of peftFile.tensors) {
    assert.equal(file.tensors.get(key)?.shape, info.shape, key);
    assert.ok(relativeError(read(file, key), read(peftFile, key)) <= 1e-6, key);
  }
  const cat = peftc(["combine", ...dirs.flatMap((d) => ["--adapter", d]), "--combine", "cat", "-o", join(dir, "bad")]);
  assert.is(cat.status, 1);
  assert.match(cat.stderr, "--combine linear");
});

test("merge --combine merges the combination: LoRA cat gives base + PEFT's combined ΔW; IA3 linear gives PEFT's combined adapter merged", () => {
  const dir = scratchDir("merge-combine");
  const modelDir = tinyModel("llama");
  const merged = (out: string) => SafetensorsFile.open(join(out, "model.safetensors"));
  const c = cases.cat;
  const cat = join(dir, "cat");
  const run = peftc(["merge", "--model", modelDir, ...c.dirs.flatMap((d, i) => ["--adapter", d, "--weight", String(c.weights[i])]), "--combine", "cat", "-o", cat]);
  assert.is(run.status, 0, run.stderr);
  const modules = [...expected.tensors.keys()].filter((k) => k.startsWith("delta.cat.")).map((k) => k.slice("delta.cat.".length));
  assert.ok(modules.length > 0);
  for (const path of modules) {
    const base = read(SafetensorsFile.open(join(modelDir, "model.safetensors")), `${path}.weight`);
    const delta = read(expected, `delta.cat.${path}`);
    const want = Float64Array.from(base, (w, i) => w + delta[i]!);
    const e = relativeError(read(merged(cat), `${path}.weight`), want);
    assert.ok(e <= 1e-5, `${path}: relative error ${e}`);
  }
  // IA3: the weighted sum of the two, merged, is PEFT's own combined adapter merged.
  const ia3 = [join(golden, "adapters", "ia3-llama"), join(golden, "combine", "ia3-second")];
  const viaCombine = join(dir, "ia3-combined");
  const fromPeft = join(dir, "ia3-peft");
  assert.is(peftc(["merge", "--model", modelDir, ...ia3.flatMap((d, i) => ["--adapter", d, "--weight", String([0.6, -0.5][i])]), "--combine", "linear", "-o", viaCombine]).status, 0);
  assert.is(peftc(["merge", "--model", modelDir, "--adapter", join(golden, "combine", "ia3"), "-o", fromPeft]).status, 0);
  const a = merged(viaCombine);
  const b = merged(fromPeft);
  let changed = 0;
  for (const key of b.tensors.keys()) {
    const e = relativeError(read(a, key), read(b, key));
    assert.ok(e <= 1e-6, `${key}: relative error ${e}`);
    if (relativeError(read(b, key), read(SafetensorsFile.open(join(modelDir, "model.safetensors")), key)) > 1e-3) changed++;
  }
  assert.ok(changed > 0, "the IA3 combination changes no weight");
});

test.run();
