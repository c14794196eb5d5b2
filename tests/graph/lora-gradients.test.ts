// LoRA gradients on the GPU against central differences of the float64
// reference loss, on tiny Llama, Qwen2 and GPT-2 models.
import { test } from "uvu";
import type { ModelTree } from "../../compiler/models/types.js";
import { referenceLoss } from "../reference/model.js";
import { baseWeights, graphFor, randomIds, runGradients } from "../helpers/graph.js";
import { tinyModel } from "../helpers/fixtures.js";
import { checkGradients } from "../helpers/gradcheck.js";
import type { PlanModule } from "../../compiler/resolve/plan-types.js";

function rowNorms(W: Float64Array, out: number, inFeatures: number, conv1d: boolean): Float64Array {
  const norms = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = 0;
    for (let i = 0; i < inFeatures; i++) s += W[conv1d ? i * out + o : o * inFeatures + i]! ** 2;
    norms[o] = Math.sqrt(s);
  }
  return norms;
}

const OPTIMIZER = { lr: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 0 };

/**
 * Effective weights for the reference: W + s·B·A per adapted module (transposed
 * for Conv1D); with DoRA, (m / n)·(W + s·B·A) where n is the row norm taken at
 * `frozenNorms` when given: PEFT's DoRA treats the norm as a constant, so the
 * gradient to check is the one with n held fixed.
 */
function loraWeights(tree: ModelTree, modules: PlanModule[], params: Map<string, Float64Array>, base: (name: string) => Float64Array, frozenNorms?: Map<string, Float64Array>) {
  const merged = new Map<string, Float64Array>();
  for (const m of modules) {
    const node = tree.modules.find((n) => n.path === m.path)!;
    // An embedding's factors are lora_embedding_A (r, vocab) and _B (dim, r); its table is stored (vocab, dim), as Conv1D's (in, out).
    const embedding = node.kind === "embedding";
    const A = params.get(`base_model.model.${m.path}.${embedding ? "lora_embedding_A" : "lora_A.weight"}`)!;
    const B = params.get(`base_model.model.${m.path}.${embedding ? "lora_embedding_B" : "lora_B.weight"}`)!;
    const r = m.hyperparameters.r as number;
    const s = m.scaling!;
    const W = Float64Array.from(base(node.weight.name));
    for (let o = 0; o < m.outFeatures; o++) {
      for (let i = 0; i < m.inFeatures; i++) {
        let d = 0;
        for (let k = 0; k < r; k++) d += B[o * r + k]! * A[k * m.inFeatures + i]!;
        // Linear stores (out, in); Conv1D and embeddings (in, out).
        const at = node.kind === "conv1d" || embedding ? i * m.outFeatures + o : o * m.inFeatures + i;
        W[at]! += s * d;
      }
    }
    const magnitude = params.get(`base_model.model.${m.path}.lora_magnitude_vector`);
    if (magnitude) {
      const norms = frozenNorms?.get(m.path) ?? rowNorms(W, m.outFeatures, m.inFeatures, node.kind === "conv1d");
      for (let o = 0; o < m.outFeatures; o++) {
        for (let i = 0; i < m.inFeatures; i++) {
          const at = node.kind === "conv1d" ? i * m.outFeatures + o : o * m.inFeatures + i;
          W[at]! *= magnitude[o]! / norms[o]!;
        }
      }
    }
    merged.set(m.path, W);
  }
  // By module: a tied lm_head's adapter must not change the embedding lookup.
  return (name: string, module?: string) => (module !== undefined ? merged.get(module) : undefined) ?? base(name);
}

const cases: [string, "llama" | "qwen2" | "gpt2", string][] = [
  ["llama: q, v, o and down, GQA", "llama", 'adapter a: lora { r = 4  alpha = 8  init = random  target "q_proj", "v_proj", "o_proj", "down_proj" }'],
  ["llama: rsLoRA on the MLP of one block", "llama", 'adapter a: lora { r = 4  alpha = 6  use_rslora = true  init = random  target "layers.2.mlp.gate_proj", "layers.2.mlp.up_proj" }'],
  ["qwen2: k_proj with biases, and the tied lm_head", "qwen2", 'adapter a: lora { r = 3  alpha = 3  init = random  target "k_proj", "lm_head" }'],
  ["gpt2: Conv1D c_attn and mlp.c_proj", "gpt2", 'adapter a: lora { r = 4  alpha = 8  init = random  target "c_attn", "mlp.c_proj" }'],
  ["llama: DoRA with rsLoRA", "llama", 'adapter a: lora { r = 4  alpha = 8  use_dora = true  use_rslora = true  init = random  target "q_proj", "down_proj" }'],
  ["qwen2: DoRA on biased k_proj", "qwen2", 'adapter a: lora { r = 2  alpha = 4  use_dora = true  init = random  target "k_proj" }'],
  ["gpt2: DoRA on Conv1D", "gpt2", 'adapter a: lora { r = 4  alpha = 4  use_dora = true  init = random  target "attn.c_proj" }'],
  ["llama: the token embedding beside q_proj", "llama", 'adapter a: lora { r = 3  alpha = 6  init = random  target "embed_tokens", "q_proj" }'],
  ["qwen2: the token embedding alone (tied to lm_head, which keeps the base table)", "qwen2", 'adapter a: lora { r = 2  alpha = 2  init = random  target "embed_tokens" }'],
  ["gpt2: wte (tied to lm_head) and the position embedding wpe", "gpt2", 'adapter a: lora { r = 2  alpha = 4  init = random  target "wte", "wpe" }'],
];

for (const [name, kind, adapter] of cases) {
  test(`LoRA gradients agree with central differences: ${name}`, async () => {
    const dir = tinyModel(kind);
    const { model, plan, runner } = await graphFor(dir, adapter, { batch: 2, seqLen: 8 }, { optimizer: OPTIMIZER, seed: 5 });
    const ids = randomIds(2, 8, model.tree.config.vocabSize, 3);
    const { params, grads } = await runGradients(runner, ids);
    const base = baseWeights(model);
    const modules = plan.adapters[0]!.modules;
    // DoRA's norms at the point the gradient is taken, held fixed for the differences.
    const norms = new Map<string, Float64Array>();
    for (const m of modules) {
      const node = model.tree.modules.find((n) => n.path === m.path)!;
      const direction = loraWeights(model.tree, [{ ...m, hyperparameters: { ...m.hyperparameters, use_dora: false } }],
        new Map([...params].filter(([k]) => !k.endsWith("lora_magnitude_vector"))), base).bind(null);
      norms.set(m.path, rowNorms(direction(node.weight.name, m.path), m.outFeatures, m.inFeatures, node.kind === "conv1d"));
    }
    const loss = () => referenceLoss(model.tree, loraWeights(model.tree, modules, params, base, norms), ids).mean;
    checkGradients(params, grads, loss);
  });
}

test.run();
