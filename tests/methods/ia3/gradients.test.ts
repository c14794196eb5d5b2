// IA3 gradients on the GPU against central differences of the float64
// reference loss: output-scaled Linear layers (with and without biases),
// input-scaled feed-forward layers, and GPT-2's Conv1D, whose (in, out)
// storage flips which side of W each scaling lands on. The vectors start
// random (init_weights = false, PEFT's torch.randn) so every path is exercised
// away from l = 1.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ModelTree } from "../../../compiler/models/types.js";
import type { PlanModule } from "../../../compiler/resolve/plan-types.js";
import { baseWeights, graphFor, randomIds, runGradients } from "../../helpers/graph.js";
import { checkGradients } from "../../helpers/gradcheck.js";
import { tinyModel } from "../../helpers/fixtures.js";
import { referenceLoss } from "../../reference/model.js";

const OPTIMIZER = { lr: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 0 };

/**
 * Effective weights for the reference (the merged layer is exactly the adapted
 * one): output-scaled W[o, :]·l[o] and b[o]·l[o]; feed-forward W[:, i]·l[i],
 * bias untouched. Written independently of the compiler's merge code.
 */
function ia3Weights(tree: ModelTree, modules: PlanModule[], params: Map<string, Float64Array>, base: (name: string) => Float64Array) {
  const byModule = new Map<string, Float64Array>();
  const biases = new Map<string, Float64Array>();
  for (const m of modules) {
    const node = tree.modules.find((n) => n.path === m.path)!;
    const key = `base_model.model.${m.path}.ia3_l`;
    const l = params.get(key)!;
    const ff = l.length === m.inFeatures && m.tensors[0]!.shape[0] === 1;
    const W = Float64Array.from(base(node.weight.name));
    for (let o = 0; o < m.outFeatures; o++) {
      for (let i = 0; i < m.inFeatures; i++) {
        const at = node.kind === "conv1d" ? i * m.outFeatures + o : o * m.inFeatures + i;
        W[at]! *= ff ? l[i]! : l[o]!;
      }
    }
    byModule.set(m.path, W);
    if (node.bias && !ff) biases.set(node.bias.name, base(node.bias.name).map((b, o) => b * l[o]!));
  }
  return (name: string, module?: string) => (module !== undefined ? byModule.get(module) : undefined) ?? biases.get(name) ?? base(name);
}

const cases: [string, "llama" | "qwen2" | "gpt2", string, number][] = [
  ["llama: k, v output-scaled, down_proj input-scaled", "llama",
    'adapter a: ia3 { init_weights = false  target "k_proj", "v_proj", "down_proj"  feedforward = ["down_proj"] }', 3],
  ["qwen2: biased q, k output-scaled, up_proj, and gate_proj input-scaled", "qwen2",
    'adapter a: ia3 { init_weights = false  target "q_proj", "k_proj", "up_proj", "gate_proj"  feedforward = ["gate_proj"] }', 4],
  ["gpt2: Conv1D c_attn, c_fc with biases, attn.c_proj output-scaled, mlp.c_proj input-scaled", "gpt2",
    'adapter a: ia3 { init_weights = false  target "c_attn", "c_fc", "attn.c_proj", "mlp.c_proj"  feedforward = ["mlp.c_proj"] }', 4],
];

for (const [name, kind, adapter, perLayer] of cases) {
  test(`IA3 gradients agree with central differences: ${name}`, async () => {
    const { model, plan, runner } = await graphFor(tinyModel(kind), adapter, { batch: 2, seqLen: 8 }, { optimizer: OPTIMIZER, seed: 5 });
    const modules = plan.adapters[0]!.modules;
    assert.is(modules.length, perLayer * model.tree.config.layers);
    const ids = randomIds(2, 8, model.tree.config.vocabSize, 3);
    const { params, grads } = await runGradients(runner, ids);
    assert.is(params.size, modules.length);
    // Random init (N(0, 1)), not ones: the forward below is not the base model's.
    assert.ok([...params.values()].every((l) => l.some((v) => Math.abs(v - 1) > 0.1)), "the vectors start random");
    const base = baseWeights(model);
    const loss = () => referenceLoss(model.tree, ia3Weights(model.tree, modules, params, base), ids).mean;
    checkGradients(params, grads, loss);
  });
}

test.run();
