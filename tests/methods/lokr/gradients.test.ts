// LoKr gradients on the GPU against central differences of the float64
// reference loss (effective weights W + s·mask·kron(w1, w2)), for every shape
// PEFT gives the factors, with and without rank / module dropout.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFloat32 } from "../../../runtime/files/checkpoint.js";
import { referenceLoss } from "../../reference/model.js";
import { graphFor, inputsOf, randomIds } from "../../helpers/graph.js";
import { tinyModel } from "../../helpers/fixtures.js";
import { lokrMaskReference, lokrWeights } from "./reference.js";
import { checkGradients, trainedViews } from "../../helpers/gradcheck.js";

const OPTIMIZER = { lr: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 0 };



interface Case {
  name: string;
  model?: "llama" | "gpt2";
  adapter: string;
  /** A training step's dropout seed; absent: evaluation mode (no dropout). */
  seed?: number;
  /** Tensors (by key suffix) the case must contain: the shapes it is about. */
  expect: string[];
}

const cases: Case[] = [
  {
    name: "w1 full; w2 full on q_proj (r = max/2), w2 = a·b on down_proj (176 = 11·16)",
    adapter: 'adapter a: lokr { r = 4  alpha = 8  init = random  target "layers.0.self_attn.q_proj", "layers.2.self_attn.v_proj", "layers.1.mlp.down_proj" }',
    expect: ["q_proj.lokr_w1", "q_proj.lokr_w2", "down_proj.lokr_w2_a", "down_proj.lokr_w2_b"],
  },
  {
    name: "decompose_both: both factors rank-2 products (GQA k_proj, gate_proj)",
    adapter: 'adapter a: lokr { r = 2  alpha = 3  decompose_both = true  init = random  target "layers.3.self_attn.q_proj", "layers.1.self_attn.k_proj", "layers.0.mlp.gate_proj" }',
    expect: ["q_proj.lokr_w1_a", "q_proj.lokr_w1_b", "k_proj.lokr_w2_a", "gate_proj.lokr_w1_b", "gate_proj.lokr_w2_b"],
  },
  {
    name: "decompose_factor 4 and a per-target rank",
    adapter: 'adapter a: lokr { r = 1  alpha = 2  decompose_factor = 4  init = random  target "layers.[0..1].self_attn.o_proj"  target "layers.1.mlp.up_proj" { r = 3  alpha = 5 } }',
    expect: ["o_proj.lokr_w1", "o_proj.lokr_w2_a", "up_proj.lokr_w2_b"],
  },
  {
    name: "rank_dropout with rescale and module_dropout, in a training step",
    adapter: 'adapter a: lokr { r = 2  alpha = 4  rank_dropout = 0.4  rank_dropout_scale = true  module_dropout = 0.3  decompose_both = true  init = random  target "layers.[1..2].self_attn.{q,v,o}_proj", "layers.2.mlp.up_proj" }',
    seed: 7, // drops 3 of the 7 modules
    expect: ["q_proj.lokr_w1_a"],
  },
  {
    // GPT-2's Conv1D layers are refused (as PEFT refuses them); its lm_head is an nn.Linear tied to the embedding.
    name: "gpt2: the tied lm_head",
    model: "gpt2",
    adapter: 'adapter a: lokr { r = 2  alpha = 2  decompose_both = true  init = random  target "lm_head" }',
    expect: ["lm_head.lokr_w1_a", "lm_head.lokr_w2_b"],
  },
  {
    name: "rank_dropout alone, in a training step",
    adapter: 'adapter a: lokr { r = 4  alpha = 4  rank_dropout = 0.5  init = random  target "layers.0.self_attn.v_proj", "layers.3.mlp.down_proj" }',
    seed: 77,
    expect: ["down_proj.lokr_w2_a"],
  },
];

for (const c of cases) {
  test(`LoKr gradients agree with central differences: ${c.name}`, async () => {
    const dir = tinyModel(c.model ?? "llama");
    const { model, plan, runner } = await graphFor(dir, c.adapter, { batch: 2, seqLen: 8 }, { optimizer: OPTIMIZER, seed: 5 });
    const { graph } = runner;
    const ids = randomIds(2, 8, model.tree.config.vocabSize, 3);
    const inputs = inputsOf(ids);
    const modules = plan.adapters[0]!.modules;
    for (const suffix of c.expect) assert.ok(modules.some((m) => m.tensors.some((t) => t.key.endsWith(suffix))), `the plan has ${suffix}`);
    runner.write("ids", inputs.ids);
    runner.write("labels", inputs.targets);
    const counted = [...inputs.targets].filter((t) => t >= 0).length;
    runner.setScalar("gradScale", 1 / counted);
    const cache = new Map<string, Float64Array>();
    const base = (n: string) => {
      if (!cache.has(n)) cache.set(n, Float64Array.from(readFloat32(model.checkpoint, n)));
      return cache.get(n)!;
    };
    const size = graph.buffers.find((b) => b.name === "params")!.size;
    const flatParams = new Float32Array(size);
    await runner.read("params", flatParams);
    const params = new Map([...trainedViews(graph, flatParams, "parameter")].map(([k, v]) => [k, Float64Array.from(v)]));
    const losses = new Float32Array(2 * 8);
    const gpuLoss = async () => {
      await runner.read("loss", losses);
      return losses.reduce((a, b) => a + b, 0) / counted;
    };

    let masks: Map<string, Float64Array> | undefined;
    if (c.seed !== undefined) {
      // Evaluation first: dropout is the identity, whatever its settings.
      runner.setScalar("training", 0);
      await runner.run(["eval"]);
      const evalLoss = await gpuLoss();
      const want = referenceLoss(model.tree, lokrWeights(model.tree, modules, params, base), ids).mean;
      assert.ok(Math.abs(evalLoss - want) < 1e-5 * want, `eval loss ${evalLoss} vs reference without dropout ${want}`);
      masks = new Map(modules.map((m) => [m.path, lokrMaskReference(m, c.seed!)]));
      runner.setScalar("training", 1);
      runner.setScalar("dropoutSeed", c.seed);
      // The seed must exercise the mask: rows dropped, and (with module dropout) whole modules dropped and kept.
      const all = [...masks.values()];
      assert.ok(all.some((m) => m.some((v) => v === 0) && m.some((v) => v !== 0)), "some rows are dropped");
      if (modules[0]!.hyperparameters.module_dropout as number > 0) {
        assert.ok(all.some((m) => m.every((v) => v === 0)), "some module is dropped");
        assert.ok(all.some((m) => m.some((v) => v !== 0)), "some module is kept");
      }
    }
    await runner.run(["forward", "loss", "backward"], graph.zeroBeforeStep);
    const flatGrads = new Float32Array(size);
    await runner.read("grads", flatGrads);
    const trainLoss = await gpuLoss();
    runner.destroy();
    const grads = trainedViews(graph, flatGrads, "gradient");
    const loss = () => referenceLoss(model.tree, lokrWeights(model.tree, modules, params, base, masks), ids).mean;
    const want = loss();
    assert.ok(Math.abs(trainLoss - want) < 1e-5 * want, `training-step loss ${trainLoss} vs reference ${want}`);
    // A module dropped for the step: its tensors get no gradient at all.
    const dropped = (key: string) => masks?.get(key.slice("base_model.model.".length, key.lastIndexOf(".")))?.every((v) => v === 0) ?? false;
    for (const [key, grad] of grads) if (dropped(key)) assert.ok(grad.every((g) => g === 0), `${key}: a dropped module has a gradient`);
    checkGradients(new Map([...params].filter(([key]) => !dropped(key))), grads, loss);
  });
}

test.run();
