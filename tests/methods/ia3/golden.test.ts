// IA3 adapters saved by Hugging Face PEFT itself (tests/golden/adapters/ia3-*,
// random vectors), run and merged here: the logits and loss equal what
// transformers + PEFT computed (float64), the merged weights and biases equal
// PEFT's merge_and_unload, and unmerging restores the base. Llama's Linear
// (k_proj, v_proj output-scaled, down_proj input-scaled) and GPT-2's Conv1D with
// biases (c_attn, c_fc output-scaled with their biases, mlp.c_proj input-scaled).
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { lowerMerge } from "../../../compiler/graph/merge.js";
import { loadModel, type LoadedModel } from "../../../compiler/models/load.js";
import { loadPeftAdapters } from "../../../compiler/peft-config/load-adapter.js";
import type { PlanAdapter } from "../../../compiler/resolve/plan-types.js";
import { readFloat32 } from "../../../runtime/files/checkpoint.js";
import { SafetensorsFile, readTensorBytes, toFloat32 } from "../../../runtime/files/safetensors.js";
import { GraphRunner } from "../../../runtime/executor/graph-runner.js";
import { acquireRuntime } from "../../../runtime/gpu/index.js";
import { testDevice } from "../../helpers/gpu.js";
import { tinyModel } from "../../helpers/fixtures.js";
import { repoRoot } from "../../helpers/paths.js";
import { relativeError } from "../../helpers/compare.js";
import { checkForwardGolden } from "../../helpers/golden.js";

const golden = join(repoRoot, "tests", "golden", "adapters");
const CASES = ["ia3-llama", "ia3-gpt2"] as const;
const kindOf = (name: string) => (name.endsWith("gpt2") ? "gpt2" : "llama");

function expectedOf(name: string) {
  const file = SafetensorsFile.open(join(golden, name, "expected.safetensors"));
  const read = (key: string) => toFloat32(readTensorBytes(file.tensors.get(key)!), file.tensors.get(key)!.dtype);
  return { file, read };
}


for (const name of CASES) {
  test(`PEFT's ${name} gives transformers' logits and loss here`, async () => {
    const run = await checkForwardGolden(join(golden, name), kindOf(name));
    // The saved config's feed-forward modules reach the plan: their vectors are [1, in].
    const ff = run.adapter.adapter.modules.filter((m) => m.tensors[0]!.shape[0] === 1 && m.tensors[0]!.shape[1] === m.inFeatures);
    assert.ok(ff.length > 0 && ff.every((m) => /(down_proj|mlp\.c_proj)$/.test(m.path)), `feed-forward modules: ${ff.map((m) => m.path).join(", ")}`);
  });
}

async function mergeRunner(model: LoadedModel, adapter: PlanAdapter, tensors: Map<string, Float32Array>, scale: number) {
  const runtime = await acquireRuntime();
  const lowered = lowerMerge({ tree: model.tree, adapters: [{ adapter, scale }], device: runtime.profile });
  const runner = await GraphRunner.create(runtime, lowered.graph, lowered.wgsl, { weight: (n) => readFloat32(model.checkpoint, n), saved: (k) => tensors.get(k), seed: 0 });
  return { ...lowered, runner };
}

/**
 * What merging multiplies each element of a base tensor by: s = w·l at the
 * element's output (row of Linear's (out, in), column of Conv1D's (in, out),
 * and the bias) or, for a feed-forward target, at its input; 1 elsewhere.
 */
function factors(model: LoadedModel, adapter: PlanAdapter, tensors: Map<string, Float32Array>, w: number): (tensor: string) => (i: number) => number {
  const byTensor = new Map<string, (i: number) => number>();
  for (const module of adapter.modules) {
    const l = tensors.get(`base_model.model.${module.path}.ia3_l`)!;
    const ff = module.tensors[0]!.shape[0] === 1 && module.tensors[0]!.shape[1] === module.inFeatures;
    const conv1d = model.tree.modules.find((n) => n.path === module.path)!.kind === "conv1d";
    const { inFeatures: inF, outFeatures: outF } = module;
    const index = ff ? (i: number) => (conv1d ? Math.floor(i / outF) : i % inF) : (i: number) => (conv1d ? i % outF : Math.floor(i / inF));
    byTensor.set(`${module.path}.weight`, (i) => w * l[index(i)]!);
    if (!ff) byTensor.set(`${module.path}.bias`, (i) => w * l[i]!);
  }
  return (tensor) => byTensor.get(tensor) ?? (() => 1);
}

/**
 * Unmerging gives PEFT's W·s / (s + 1e-8): the base to float32 rounding
 * wherever |s| ≫ 1e-8, and 0 where s = 0 (the merge zeroed it; PEFT's 1e-8
 * only avoids the division by zero).
 */
async function assertUnmerged(model: LoadedModel, runner: GraphRunner, merged: { tensor: string; buffer: string }[], factor: (tensor: string) => (i: number) => number) {
  await runner.run(["unmerge"]);
  for (const m of merged) {
    const base = readFloat32(model.checkpoint, m.tensor);
    const s = factor(m.tensor);
    const got = new Float32Array(base.length);
    await runner.read(m.buffer, got);
    for (let i = 0; i < base.length; i++) {
      const want = (base[i]! * s(i)) / (s(i) + 1e-8);
      // Three roundings (w·l's product, the merge, the division): 2.4e-7 relative.
      assert.ok(Math.abs(got[i]! - want) <= 2.4e-7 * Math.abs(want), `${m.tensor}[${i}]: unmerged ${got[i]} vs ${want} (base ${base[i]})`);
    }
  }
}

for (const name of CASES) {
  test(`PEFT's ${name} merges here to PEFT's merged weights and biases, and unmerges to the base`, async () => {
    await testDevice();
    const model = loadModel(tinyModel(kindOf(name)));
    const [adapter] = loadPeftAdapters(join(golden, name), model.tree);
    const { file, read } = expectedOf(name);
    const want = new Map([...file.tensors.keys()].filter((k) => k.startsWith("merged.")).map((k) => [k.slice("merged.".length), read(k)]));
    const { runner, merged } = await mergeRunner(model, adapter!.adapter, adapter!.tensors, 1);
    try {
      await runner.run(["merge"]);
      // Every tensor PEFT changed is changed here, and only those (a feed-forward target's bias stays).
      for (const m of merged) {
        const got = new Float32Array(m.shape.reduce((a, b) => a * b, 1));
        await runner.read(m.buffer, got);
        const expected = want.get(m.tensor);
        if (expected) {
          const error = relativeError(got, expected);
          assert.ok(error <= 1e-5, `${m.tensor}: relative error ${error}`);
        } else {
          assert.equal(got, readFloat32(model.checkpoint, m.tensor), `${m.tensor} changed, PEFT leaves it`);
        }
      }
      assert.equal(merged.filter((m) => want.has(m.tensor)).length, want.size);
      if (name.endsWith("gpt2")) assert.ok([...want.keys()].some((k) => k.endsWith(".bias")), "PEFT scaled some bias");
      await assertUnmerged(model, runner, merged, factors(model, adapter!.adapter, adapter!.tensors, 1));
    } finally {
      runner.destroy();
    }
  });
}

test("a merge weight w merges w·l (PEFT's add_weighted_adapter of one adapter); a zero in l unmerges to zero, as in PEFT", async () => {
  await testDevice();
  const model = loadModel(tinyModel("gpt2"));
  const [adapter] = loadPeftAdapters(join(golden, "ia3-gpt2"), model.tree);
  const tensors = new Map([...adapter!.tensors].map(([k, v]) => [k, Float32Array.from(v)]));
  // One zero in an output-scaled vector: its column of W (Conv1D: (in, out)) and its bias entry merge to 0.
  const path = "transformer.h.1.attn.c_attn";
  const zeroAt = 5;
  tensors.get(`base_model.model.${path}.ia3_l`)![zeroAt] = 0;
  const w = 0.5;
  const { runner, merged } = await mergeRunner(model, adapter!.adapter, tensors, w);
  try {
    await runner.run(["merge"]);
    const factor = factors(model, adapter!.adapter, tensors, w);
    for (const m of merged) {
      const base = readFloat32(model.checkpoint, m.tensor);
      const got = new Float32Array(base.length);
      await runner.read(m.buffer, got);
      const s = factor(m.tensor);
      assert.ok(relativeError(got, base.map((v, i) => v * s(i))) <= 1e-7, `${m.tensor}: relative error ${relativeError(got, base.map((v, i) => v * s(i)))}`);
    }
    const weight = merged.find((t) => t.tensor === `${path}.weight`)!;
    const bias = merged.find((t) => t.tensor === `${path}.bias`)!;
    const column = async (buffer: string, size: number, stride: number) => {
      const all = new Float32Array(size);
      await runner.read(buffer, all);
      return all.filter((_, i) => i % stride === zeroAt);
    };
    assert.ok((await column(weight.buffer, 64 * 192, 192)).every((v) => v === 0), "the merge zeroes the column l zeroes");
    assert.ok((await column(bias.buffer, 192, 192)).every((v) => v === 0), "and its bias entry");
    await assertUnmerged(model, runner, merged, factor);
    assert.ok((await column(weight.buffer, 64 * 192, 192)).every((v) => v === 0), "unmerging cannot bring the zeroed column back");
  } finally {
    runner.destroy();
  }
});

test.run();
