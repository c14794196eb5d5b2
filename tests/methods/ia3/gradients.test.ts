// IA3 gradients on the GPU against central differences of the float64
// reference loss: output-scaled Linear layers (with and without biases),
// input-scaled feed-forward layers, and GPT-2's Conv1D, whose (in, out)
// storage flips which side of W each scaling lands on. The vectors start
// random (init_weights = false, PEFT's torch.randn) so every path is exercised
// away from l = 1.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Graph } from "../../../compiler/graph/types.js";
import type { ModelTree } from "../../../compiler/models/types.js";
import type { PlanModule } from "../../../compiler/resolve/plan-types.js";
import { readFloat32 } from "../../../runtime/files/checkpoint.js";
import { graphFor, inputsOf, randomIds } from "../../helpers/graph.js";
import { tinyModel } from "../../helpers/fixtures.js";
import { referenceLoss } from "../../reference/model.js";

const OPTIMIZER = { lr: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 0 };

function randomSigns(n: number, seed: number): Float64Array {
  let s = (seed * 2654435761) >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 31 ? 1 : -1;
  });
}

/** Each trained tensor's values (or gradients) read out of the flat buffer, by PEFT key. */
function views(graph: Graph, flat: Float32Array, role: "parameter" | "gradient"): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const b of graph.buffers) {
    if (b.role === role && b.view) out.set(b.name.slice(2), flat.slice(b.view.offset, b.view.offset + b.size));
  }
  return out;
}

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
    const { graph } = runner;
    const modules = plan.adapters[0]!.modules;
    assert.is(modules.length, perLayer * model.tree.config.layers);
    const ids = randomIds(2, 8, model.tree.config.vocabSize, 3);
    const inputs = inputsOf(ids);
    runner.write("ids", inputs.ids);
    runner.write("labels", inputs.targets);
    runner.setScalar("gradScale", 1 / [...inputs.targets].filter((t) => t >= 0).length);
    await runner.run(["forward", "loss", "backward"], graph.zeroBeforeStep);
    const size = graph.buffers.find((b) => b.name === "params")!.size;
    const flatParams = new Float32Array(size);
    const flatGrads = new Float32Array(size);
    await runner.read("params", flatParams);
    await runner.read("grads", flatGrads);
    runner.destroy();
    const params = new Map([...views(graph, flatParams, "parameter")].map(([k, v]) => [k, Float64Array.from(v)]));
    const grads = views(graph, flatGrads, "gradient");
    assert.is(params.size, modules.length);
    // Random init (N(0, 1)), not ones: the forward below is not the base model's.
    assert.ok([...params.values()].every((l) => l.some((v) => Math.abs(v - 1) > 0.1)), "the vectors start random");
    const cache = new Map<string, Float64Array>();
    const base = (n: string) => {
      if (!cache.has(n)) cache.set(n, Float64Array.from(readFloat32(model.checkpoint, n)));
      return cache.get(n)!;
    };
    const loss = () => referenceLoss(model.tree, ia3Weights(model.tree, modules, params, base), ids).mean;
    const eps = 1e-4;
    for (const [key, values] of params) {
      const grad = grads.get(key)!;
      const scale = Math.sqrt(grad.reduce((s, g) => s + g * g, 0) / grad.length);
      assert.ok(scale > 0, `${key}: the gradient is zero`);
      // A few elements, each to a relative 1e-3 of the tensor's gradient scale...
      for (let n = 0; n < 3; n++) {
        const i = (n * 7919 + key.length * 31) % values.length;
        const keep = values[i]!;
        values[i] = keep + eps;
        const up = loss();
        values[i] = keep - eps;
        const down = loss();
        values[i] = keep;
        const fd = (up - down) / (2 * eps);
        assert.ok(Math.abs(grad[i]! - fd) <= 1e-3 * Math.max(Math.abs(fd), scale), `${key}[${i}]: gpu ${grad[i]} vs central difference ${fd}`);
      }
      // ...and the whole vector along a random direction, to 1e-3.
      const direction = randomSigns(values.length, key.length);
      const dot = grad.reduce((s, g, j) => s + g * direction[j]!, 0);
      const shifted = (sign: number) => {
        for (let j = 0; j < values.length; j++) values[j]! += sign * eps * direction[j]!;
        const l = loss();
        for (let j = 0; j < values.length; j++) values[j]! -= sign * eps * direction[j]!;
        return l;
      };
      const fd = (shifted(1) - shifted(-1)) / (2 * eps);
      assert.ok(Math.abs(dot - fd) <= 1e-3 * Math.abs(fd), `${key} along a direction: gpu ${dot} vs ${fd}`);
    }
  });
}

test.run();
