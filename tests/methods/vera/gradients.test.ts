// VeRA gradients on the GPU (dλ_b, dλ_d of every adapted layer, and the input
// gradients that carry them down through adapted layers) against central
// differences of the float64 reference loss, on Llama (Linear layers of
// three shapes) and GPT-2 (Conv1D layers of three shapes): each layer uses its
// own corner of the shared projections.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ModelTree } from "../../../compiler/models/types.js";
import type { PlanModule } from "../../../compiler/resolve/plan-types.js";
import { referenceLoss } from "../../reference/model.js";
import { tinyModel } from "../../helpers/fixtures.js";
import { baseWeights, graphFor, inputsOf, randomIds } from "../../helpers/graph.js";
import { checkGradients, trainedViews } from "../../helpers/gradcheck.js";

const OPTIMIZER = { lr: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 0 };



interface Projections {
  A: Float64Array;
  B: Float64Array;
  r: number;
  maxIn: number;
}

/** W + (λ_b ⊙ B[:out])·(λ_d ⊙ A[:, :in]) per adapted module, transposed for Conv1D: PEFT's get_delta_weight. */
function veraWeights(tree: ModelTree, modules: PlanModule[], params: Map<string, Float64Array>, p: Projections, base: (name: string) => Float64Array) {
  const merged = new Map<string, Float64Array>();
  for (const m of modules) {
    const node = tree.modules.find((n) => n.path === m.path)!;
    const lb = params.get(`base_model.model.${m.path}.vera_lambda_b`)!;
    const ld = params.get(`base_model.model.${m.path}.vera_lambda_d`)!;
    const W = Float64Array.from(base(node.weight.name));
    for (let o = 0; o < m.outFeatures; o++) {
      for (let i = 0; i < m.inFeatures; i++) {
        let d = 0;
        for (let k = 0; k < p.r; k++) d += p.B[o * p.r + k]! * ld[k]! * p.A[k * p.maxIn + i]!;
        W[node.kind === "conv1d" ? i * m.outFeatures + o : o * m.inFeatures + i]! += lb[o]! * d;
      }
    }
    merged.set(m.path, W);
  }
  return (name: string, module?: string) => (module !== undefined ? merged.get(module) : undefined) ?? base(name);
}

const cases: [string, "llama" | "gpt2", string][] = [
  ["llama: q (64→64), v (64→32), down (176→64)", "llama", 'adapter a: vera { r = 8  init_weights = false  target "q_proj", "v_proj", "down_proj" }'],
  ["gpt2: Conv1D c_attn (64→192), c_fc (64→256), mlp.c_proj (256→64)", "gpt2", 'adapter a: vera { r = 6  init_weights = false  target "c_attn", "c_fc", "mlp.c_proj" }'],
  // The dropout graph (base and low-rank dx apart, the low-rank share back through the mask)
  // with the masks off (training = 0), so that the reference needs no mask.
  ["llama with dropout's graph: o (64→64), up (64→176)", "llama", 'adapter a: vera { r = 8  dropout = 0.1  init_weights = false  target "o_proj", "up_proj" }'],
];

for (const [name, kind, adapter] of cases) {
  test(`VeRA gradients agree with central differences: ${name}`, async () => {
    const { model, plan, runner } = await graphFor(tinyModel(kind), adapter, { batch: 2, seqLen: 8 }, { optimizer: OPTIMIZER, seed: 5 });
    const { graph } = runner;
    const ids = randomIds(2, 8, model.tree.config.vocabSize, 3);
    const inputs = inputsOf(ids);
    runner.write("ids", inputs.ids);
    runner.write("labels", inputs.targets);
    runner.setScalar("gradScale", 1 / [...inputs.targets].filter((t) => t >= 0).length);
    runner.setScalar("training", 0);
    await runner.run(["forward", "loss", "backward"], graph.zeroBeforeStep);
    const size = graph.buffers.find((b) => b.name === "params")!.size;
    const flatParams = new Float32Array(size);
    const flatGrads = new Float32Array(size);
    await runner.read("params", flatParams);
    await runner.read("grads", flatGrads);
    const frozen = async (key: string) => {
      const b = graph.buffers.find((x) => x.role === "frozen" && x.key === key)!;
      const out = new Float32Array(b.size);
      await runner.read(b.name, out);
      return { values: Float64Array.from(out), shape: b.shape };
    };
    const A = await frozen("base_model.vera_A");
    const B = await frozen("base_model.vera_B");
    runner.destroy();
    const projections = { A: A.values, B: B.values, r: A.shape[0]!, maxIn: A.shape[1]! };
    const params = new Map([...trainedViews(graph, flatParams, "parameter")].map(([k, v]) => [k, Float64Array.from(v)]));
    const grads = trainedViews(graph, flatGrads, "gradient");
    assert.is(params.size, 2 * plan.adapters[0]!.modules.length);
    const base = baseWeights(model);
    const loss = () => referenceLoss(model.tree, veraWeights(model.tree, plan.adapters[0]!.modules, params, projections, base), ids).mean;
    checkGradients(params, grads, loss);
  });
}

test.run();
