// LoHa gradients on the GPU against central differences of the float64
// reference loss, through both of the layer's paths (materialised and
// low-rank, chosen per layer by FLOPs), with biases (Qwen2), and with
// rank_dropout and module_dropout active (their per-row factors held fixed,
// as PEFT's mask is a constant of the step).
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ModelTree } from "../../../compiler/models/types.js";
import type { PlanModule } from "../../../compiler/resolve/plan-types.js";
import { referenceLoss } from "../../reference/model.js";
import { baseWeights, graphFor, inputsOf, randomIds } from "../../helpers/graph.js";
import { tinyModel } from "../../helpers/fixtures.js";
import { checkGradients, trainedViews } from "../../helpers/gradcheck.js";

const OPTIMIZER = { lr: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 0 };



/** W + s·diag(d)·(A1·B1)⊙(A2·B2) per adapted module, in float64. */
export function lohaWeights(tree: ModelTree, modules: PlanModule[], params: Map<string, Float64Array>, base: (name: string) => Float64Array, rowFactors = new Map<string, Float32Array>()) {
  const merged = new Map<string, Float64Array>();
  for (const m of modules) {
    const node = tree.modules.find((n) => n.path === m.path)!;
    const get = (name: string) => params.get(`base_model.model.${m.path}.${name}`)!;
    const [A1, B1, A2, B2] = [get("hada_w1_a"), get("hada_w1_b"), get("hada_w2_a"), get("hada_w2_b")];
    const r = m.hyperparameters.r as number;
    const [O, I] = [m.outFeatures, m.inFeatures];
    const d = rowFactors.get(m.path);
    const W = Float64Array.from(base(node.weight.name));
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < I; i++) {
        let p1 = 0;
        let p2 = 0;
        for (let k = 0; k < r; k++) {
          p1 += A1[o * r + k]! * B1[k * I + i]!;
          p2 += A2[o * r + k]! * B2[k * I + i]!;
        }
        W[o * I + i]! += m.scaling! * (d ? d[o]! : 1) * p1 * p2;
      }
    }
    merged.set(m.path, W);
  }
  return (name: string, module?: string) => (module !== undefined ? merged.get(module) : undefined) ?? base(name);
}

interface Case {
  name: string;
  kind: "llama" | "qwen2";
  adapter: string;
  /** The path each adapted module must take (by a substring of its path). */
  paths: [string, "materialised" | "low-rank"][];
  /** Train-mode dropout: the step's seed. */
  dropoutSeed?: number;
}

const cases: Case[] = [
  {
    name: "llama, r = 2: every layer low-rank",
    kind: "llama",
    adapter: 'adapter a: loha { r = 2  alpha = 4  init_weights = false  target "layers.1.self_attn.{q,v}_proj", "layers.2.mlp.{up,down}_proj" }',
    paths: [["q_proj", "low-rank"], ["v_proj", "low-rank"], ["up_proj", "low-rank"], ["down_proj", "low-rank"]],
  },
  {
    name: "llama, r = 8: square layers materialised, the MLP low-rank",
    kind: "llama",
    adapter: 'adapter a: loha { r = 8  alpha = 4  init_weights = false  target "layers.[1..2].self_attn.{q,k,o}_proj", "layers.2.mlp.down_proj" }',
    paths: [["q_proj", "materialised"], ["k_proj", "materialised"], ["o_proj", "materialised"], ["down_proj", "low-rank"]],
  },
  {
    name: "qwen2: biased k_proj and v_proj",
    kind: "qwen2",
    adapter: 'adapter a: loha { r = 3  alpha = 6  init_weights = false  target "layers.1.self_attn.{k,v}_proj" }',
    paths: [["k_proj", "low-rank"], ["v_proj", "low-rank"]],
  },
  {
    name: "llama, rank_dropout and module_dropout while training, both paths",
    kind: "llama",
    adapter: 'adapter a: loha { r = 8  alpha = 8  rank_dropout = 0.3  module_dropout = 0.3  init_weights = false  target "layers.[1..2].self_attn.{q,k}_proj", "layers.[1..2].mlp.up_proj" }',
    paths: [["q_proj", "materialised"], ["k_proj", "materialised"], ["up_proj", "low-rank"]],
    dropoutSeed: 12345,
  },
];

for (const c of cases) {
  test(`LoHa gradients agree with central differences: ${c.name}`, async () => {
    const dir = tinyModel(c.kind);
    const { model, plan, runner } = await graphFor(dir, c.adapter, { batch: 2, seqLen: 8 }, { optimizer: OPTIMIZER, seed: 5 });
    const { graph } = runner;
    const modules = plan.adapters[0]!.modules;
    // Each module's ops carry the path the cost model chose.
    for (const m of modules) {
      const want = c.paths.find(([part]) => m.path.includes(part))![1];
      const labels = graph.phases.forward.map((op) => op.label).filter((l) => l.startsWith(`${m.path} loha `) && !l.includes("dropout factors"));
      assert.ok(labels.length > 0 && labels.every((l) => l.startsWith(`${m.path} loha ${want}`)), `${m.path}: ${labels[0]}`);
    }
    const ids = randomIds(2, 8, model.tree.config.vocabSize, 3);
    const inputs = inputsOf(ids);
    runner.write("ids", inputs.ids);
    runner.write("labels", inputs.targets);
    const counted = [...inputs.targets].filter((t) => t >= 0).length;
    runner.setScalar("gradScale", 1 / counted);
    const rowFactors = new Map<string, Float32Array>();
    if (c.dropoutSeed !== undefined) {
      runner.setScalar("training", 1);
      runner.setScalar("dropoutSeed", c.dropoutSeed);
      // The step's factors, read after a forward (they live until the module's backward).
      await runner.run(["forward"]);
      for (const m of modules) {
        const d = new Float32Array(m.outFeatures);
        await runner.read(`loha_d:${m.path}`, d);
        rowFactors.set(m.path, d);
      }
      const dropped = [...rowFactors.values()].filter((d) => d.every((v) => v === 0)).length;
      assert.ok(dropped > 0 && dropped < modules.length, `${dropped} of ${modules.length} modules dropped: pick a seed that drops some, not all`);
      const someRowsDropped = [...rowFactors.values()].some((d) => d.some((v) => v === 0) && d.some((v) => v > 1));
      assert.ok(someRowsDropped, "no kept module has dropped rows");
    }
    await runner.run(["forward", "loss", "backward"], graph.zeroBeforeStep);
    const size = graph.buffers.find((b) => b.name === "params")!.size;
    const flatParams = new Float32Array(size);
    const flatGrads = new Float32Array(size);
    const losses = new Float32Array(2 * 8);
    await runner.read("params", flatParams);
    await runner.read("grads", flatGrads);
    await runner.read(graph.io.loss!, losses);
    runner.destroy();
    const params = new Map([...trainedViews(graph, flatParams, "parameter")].map(([k, v]) => [k, Float64Array.from(v)]));
    const grads = trainedViews(graph, flatGrads, "gradient");
    const base = baseWeights(model);
    const loss = () => referenceLoss(model.tree, lohaWeights(model.tree, modules, params, base, rowFactors), ids).mean;
    // The forward itself: the GPU's loss is the reference's.
    const gpuLoss = losses.reduce((a, b) => a + b, 0) / counted;
    const refLoss = loss();
    assert.ok(Math.abs(gpuLoss - refLoss) <= 1e-5 * refLoss, `loss ${gpuLoss} vs reference ${refLoss}`);
    // A module dropped for the step: its tensors get no gradient at all.
    const dropped = (key: string) => rowFactors.get(key.slice("base_model.model.".length, key.lastIndexOf(".")))?.every((v) => v === 0) ?? false;
    for (const [key, grad] of grads) if (dropped(key)) assert.ok(grad.every((g) => g === 0), `${key}: a dropped module has a gradient`);
    checkGradients(new Map([...params].filter(([key]) => !dropped(key))), grads, loss);
  });
}

test.run();
