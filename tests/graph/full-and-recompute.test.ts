// Full tuning of chosen linears: gradients of their weights and biases agree
// with central differences of the float64 reference. Gradient checkpointing
// (recomputing frozen MLPs in the backward) changes no loss and no gradient,
// and neither does keeping 16-bit frozen weights in 16 bits.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Graph } from "../../compiler/graph/types.js";
import { readFloat32 } from "../../runtime/files/checkpoint.js";
import { referenceLoss } from "../reference/model.js";
import { graphFor, inputsOf, randomIds } from "../helpers/graph.js";
import { tinyModel } from "../helpers/fixtures.js";
import { checkGradients, trainedViews } from "../helpers/gradcheck.js";

const OPTIMIZER = { lr: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 0 };

async function lossAndGradients(kind: "llama" | "qwen2" | "gpt2", adapter: string, recompute: boolean, packedWeights = false) {
  const dir = tinyModel(kind);
  const fixture = await graphFor(dir, adapter, { batch: 2, seqLen: 8 }, { optimizer: OPTIMIZER, seed: 5, recompute, packedWeights });
  const { graph } = fixture.runner;
  const ids = randomIds(2, 8, fixture.model.tree.config.vocabSize, 11);
  const inputs = inputsOf(ids);
  fixture.runner.write("ids", inputs.ids);
  fixture.runner.write("labels", inputs.targets);
  fixture.runner.setScalar("gradScale", 1 / [...inputs.targets].filter((t) => t >= 0).length);
  await fixture.runner.run(["forward", "loss", "backward"], graph.zeroBeforeStep);
  const size = graph.buffers.find((b) => b.name === "params")!.size;
  const flatParams = new Float32Array(size);
  const flatGrads = new Float32Array(size);
  await fixture.runner.read("params", flatParams);
  await fixture.runner.read("grads", flatGrads);
  const loss = new Float32Array(inputs.ids.length);
  await fixture.runner.read("loss", loss);
  fixture.runner.destroy();
  return { ...fixture, ids, loss: [...loss], params: trainedViews(graph, flatParams, "parameter"), grads: trainedViews(graph, flatGrads, "gradient"), graph };
}

const fullCases: [string, "llama" | "qwen2" | "gpt2", string][] = [
  ["llama: q_proj of one block and every down_proj", "llama", 'adapter a: full { target "layers.1.self_attn.q_proj", "down_proj" }'],
  ["qwen2: biased k_proj", "qwen2", 'adapter a: full { target "k_proj" }'],
  ["gpt2: Conv1D c_attn with its bias", "gpt2", 'adapter a: full { target "h.0.attn.c_attn" }'],
];

for (const [name, kind, adapter] of fullCases) {
  test(`full tuning gradients agree with central differences: ${name}`, async () => {
    const run = await lossAndGradients(kind, adapter, false);
    assert.ok(run.params.size > 0, "no trained tensors");
    const params = new Map([...run.params].map(([k, v]) => [k, Float64Array.from(v)]));
    // The trained copy starts from the model's own tensor.
    const byTensor = new Map<string, Float64Array>();
    for (const m of run.plan.adapters[0]!.modules) {
      const node = run.model.tree.modules.find((n) => n.path === m.path)!;
      const W = params.get(`base_model.model.${m.path}.weight`)!;
      assert.equal([...Float32Array.from(W)], [...readFloat32(run.model.checkpoint, node.weight.name)], `${m.path}: starts from the model's weight`);
      byTensor.set(node.weight.name, W);
      if (node.bias) byTensor.set(node.bias.name, params.get(`base_model.model.${m.path}.bias`)!);
    }
    const cache = new Map<string, Float64Array>();
    const weights = (n: string) => {
      if (byTensor.has(n)) return byTensor.get(n)!;
      if (!cache.has(n)) cache.set(n, Float64Array.from(readFloat32(run.model.checkpoint, n)));
      return cache.get(n)!;
    };
    const loss = () => referenceLoss(run.model.tree, weights, run.ids).mean;
    checkGradients(params, run.grads, loss, { eps: 1e-3, direction: false });
  });
}

test("gradient checkpointing recomputes frozen MLPs and changes no loss or gradient", async () => {
  const adapter = 'adapter a: lora { r = 4  alpha = 8  init = random  target "q_proj", "v_proj", "layers.1.mlp.up_proj" }';
  const kept = await lossAndGradients("llama", adapter, false);
  const recomputed = await lossAndGradients("llama", adapter, true);
  const allOps = (g: Graph) => Object.values(g.phases).flat();
  const ops = (g: Graph) => allOps(g).filter((o) => o.label.includes("recompute")).length;
  assert.is(ops(kept.graph), 0);
  // Block 1's MLP trains, so only the other blocks recompute.
  assert.ok(ops(recomputed.graph) > 0, "no recompute ops");
  assert.ok(allOps(recomputed.graph).every((o) => !(o.label.startsWith("model.layers.1.mlp") && o.label.includes("recompute"))), "block 1 has a trained MLP and must keep its activations");
  // Every other block makes its gate and up again.
  for (const l of [0, 2, 3]) {
    for (const name of ["gate_proj", "up_proj"]) assert.ok(allOps(recomputed.graph).some((o) => o.label === `model.layers.${l}.mlp.${name} forward again (recompute)`), `block ${l} ${name}`);
  }
  assert.equal(recomputed.loss, kept.loss);
  for (const [key, g] of kept.grads) {
    const other = recomputed.grads.get(key)!;
    const scale = Math.max(...g.map(Math.abs));
    const worst = Math.max(...g.map((v, i) => Math.abs(v - other[i]!)));
    assert.ok(worst <= 1e-6 * scale, `${key}: gradients differ by ${worst} (scale ${scale})`);
  }
});

function assertSameRun(a: Awaited<ReturnType<typeof lossAndGradients>>, b: Awaited<ReturnType<typeof lossAndGradients>>, what: string): void {
  a.loss.forEach((l, i) => assert.ok(Math.abs(l - b.loss[i]!) <= 1e-6 * Math.max(1, Math.abs(l)), `${what}: loss of token ${i}: ${l} vs ${b.loss[i]}`));
  assert.ok(a.grads.size > 0, `${what}: nothing trains`);
  for (const [key, g] of a.grads) {
    const other = b.grads.get(key)!;
    const scale = Math.max(...g.map(Math.abs));
    const worst = Math.max(...g.map((v, i) => Math.abs(v - other[i]!)));
    assert.ok(scale > 0 && worst <= 1e-6 * scale, `${what}: ${key}: gradients differ by ${worst} (scale ${scale})`);
  }
}

const packedCases: [string, "qwen2" | "gpt2", string, boolean][] = [
  ["qwen2 (BF16): LoRA on attention, frozen MLPs packed", "qwen2", 'adapter a: lora { r = 4  alpha = 8  init = random  target "q_proj", "v_proj" }', false],
  ["qwen2 (BF16): with gradient checkpointing", "qwen2", 'adapter a: lora { r = 4  alpha = 8  init = random  target "q_proj", "v_proj", "layers.1.mlp.up_proj" }', true],
  ["gpt2 (F16, Conv1D): LoRA on c_attn", "gpt2", 'adapter a: lora { r = 4  alpha = 8  init = random  target "c_attn" }', false],
  ["gpt2 (F16): with gradient checkpointing", "gpt2", 'adapter a: lora { r = 4  alpha = 8  init = random  target "c_attn" }', true],
];

test("gradient checkpointing on GPT-2 makes each frozen MLP's c_fc output again and changes no loss or gradient", async () => {
  const adapter = 'adapter a: lora { r = 4  alpha = 8  init = random  target "c_attn" }';
  const kept = await lossAndGradients("gpt2", adapter, false);
  const recomputed = await lossAndGradients("gpt2", adapter, true);
  const labels = (g: Graph) => Object.values(g.phases).flat().map((o) => o.label);
  assert.ok(labels(recomputed.graph).some((l) => /^transformer\.h\.\d+\.mlp\.c_fc forward again \(recompute\)$/.test(l)), "no c_fc recomputed");
  assert.not.ok(labels(kept.graph).some((l) => l.includes("recompute")));
  assertSameRun(kept, recomputed, "gpt2 recompute");
});

for (const [name, kind, adapter, recompute] of packedCases) {
  test(`16-bit frozen weights kept packed change no loss or gradient: ${name}`, async () => {
    const f32 = await lossAndGradients(kind, adapter, recompute, false);
    const packed = await lossAndGradients(kind, adapter, recompute, true);
    const packedBuffers = packed.graph.buffers.filter((b) => b.packed);
    assert.ok(packedBuffers.length > 0, "no weight is kept packed");
    assert.ok(packedBuffers.every((b) => !b.tensor!.includes("wte") && !b.tensor!.includes("embed")), "a tied embedding must stay f32");
    assert.is(f32.graph.buffers.filter((b) => b.packed).length, 0);
    assertSameRun(f32, packed, name);
  });
}

test.run();
