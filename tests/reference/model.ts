// Float64 reference forward of the fixture architectures (Llama/Qwen2 and
// GPT-2), built from the per-op references. Adapters enter as effective
// weights (W' = merge(W, adapter)), which for the linear-layer methods gives
// exactly the adapted forward. Slow and simple: it exists to check the GPU.
import type { ModelTree } from "../../compiler/models/types.js";
import { attentionForward } from "./attention.js";
import { crossEntropy } from "./cross_entropy.js";
import { addBias, matmul } from "./gemm.js";
import { gelu, silu } from "./activations.js";
import { layernormForward, rmsnormForward } from "./norm.js";
import { rope } from "./rope.js";

/**
 * Float64 values of a checkpoint tensor (by its checkpoint name); with a
 * module path, the weight that module uses (an adapted lm_head differs from
 * the embedding it is tied to).
 */
export type Weights = (name: string, module?: string) => Float64Array;

function linear(tree: ModelTree, weights: Weights, path: string, x: Float64Array, tokens: number): Float64Array {
  const m = tree.modules.find((n) => n.path === path)!;
  const w = weights(m.weight.name, path);
  // Linear stores (out, in): x·Wᵀ; Conv1D stores (in, out): x·W.
  const y = matmul(x, w, tokens, m.outFeatures, m.inFeatures, false, m.kind !== "conv1d");
  return m.bias ? addBias(y, weights(m.bias.name), m.outFeatures) : y;
}

function norm(tree: ModelTree, weights: Weights, path: string, x: Float64Array, tokens: number): Float64Array {
  const m = tree.modules.find((n) => n.path === path)!;
  const D = m.outFeatures;
  const eps = tree.config.normEps;
  return m.norm === "layer"
    ? layernormForward(x, weights(m.weight.name), weights(m.bias!.name), tokens, D, eps).y
    : rmsnormForward(x, weights(m.weight.name), tokens, D, eps).y;
}

function gather(table: Float64Array, ids: ArrayLike<number>, D: number): Float64Array {
  const out = new Float64Array(ids.length * D);
  // Id −1 (a virtual token's row) gathers nothing.
  for (let t = 0; t < ids.length; t++) if (ids[t]! >= 0) out.set(table.subarray(ids[t]! * D, (ids[t]! + 1) * D), t * D);
  return out;
}

const add = (a: Float64Array, b: Float64Array) => a.map((v, i) => v + b[i]!);

/**
 * Logits [batch·seqLen, vocab] of the token ids [batch][seqLen]. `prompts`
 * [n, hidden] are virtual tokens' input embeddings, added to the first n rows
 * of every sequence (whose ids are −1), as PEFT concatenates them to inputs_embeds.
 */
export function referenceLogits(tree: ModelTree, weights: Weights, ids: number[][], prompts?: Float64Array): Float64Array {
  const c = tree.config;
  const B = ids.length;
  const T = ids[0]!.length;
  const tokens = B * T;
  const flat = ids.flat();
  const H = c.hiddenSize;
  const gpt2 = tree.family === "gpt2";
  const embed = tree.modules.find((m) => m.path === (gpt2 ? "transformer.wte" : "model.embed_tokens"))!;
  let x = gather(weights(embed.weight.name, embed.path), flat, H);
  if (prompts) {
    for (let t = 0; t < tokens; t++) if (t % T < prompts.length / H) for (let i = 0; i < H; i++) x[t * H + i]! += prompts[(t % T) * H + i]!;
  }
  if (gpt2) {
    const wpe = tree.modules.find((m) => m.path === "transformer.wpe")!;
    x = add(x, gather(weights(wpe.weight.name, wpe.path), flat.map((_, t) => t % T), H));
  }
  const dims = { B, Tq: T, Tk: T, H: c.heads, Hkv: c.kvHeads, D: c.headDim, scale: 1 / Math.sqrt(c.headDim) };
  for (let l = 0; l < c.layers; l++) {
    if (gpt2) {
      const p = `transformer.h.${l}`;
      const qkv = linear(tree, weights, `${p}.attn.c_attn`, norm(tree, weights, `${p}.ln_1`, x, tokens), tokens);
      const split = [0, 1, 2].map((i) => {
        const part = new Float64Array(tokens * H);
        for (let t = 0; t < tokens; t++) part.set(qkv.subarray(t * 3 * H + i * H, t * 3 * H + (i + 1) * H), t * H);
        return part;
      });
      const a = attentionForward(dims, split[0]!, split[1]!, split[2]!).out;
      const mid = add(x, linear(tree, weights, `${p}.attn.c_proj`, a, tokens));
      const f = linear(tree, weights, `${p}.mlp.c_fc`, norm(tree, weights, `${p}.ln_2`, mid, tokens), tokens).map(gelu);
      x = add(mid, linear(tree, weights, `${p}.mlp.c_proj`, f, tokens));
    } else {
      const p = `model.layers.${l}`;
      const n1 = norm(tree, weights, `${p}.input_layernorm`, x, tokens);
      const q = rope(linear(tree, weights, `${p}.self_attn.q_proj`, n1, tokens), tokens, T, c.heads, c.headDim, c.ropeTheta!);
      const k = rope(linear(tree, weights, `${p}.self_attn.k_proj`, n1, tokens), tokens, T, c.kvHeads, c.headDim, c.ropeTheta!);
      const v = linear(tree, weights, `${p}.self_attn.v_proj`, n1, tokens);
      const a = attentionForward(dims, q, k, v).out;
      const mid = add(x, linear(tree, weights, `${p}.self_attn.o_proj`, a, tokens));
      const n2 = norm(tree, weights, `${p}.post_attention_layernorm`, mid, tokens);
      const gate = linear(tree, weights, `${p}.mlp.gate_proj`, n2, tokens);
      const up = linear(tree, weights, `${p}.mlp.up_proj`, n2, tokens);
      x = add(mid, linear(tree, weights, `${p}.mlp.down_proj`, gate.map((g, i) => silu(g) * up[i]!), tokens));
    }
  }
  const final = norm(tree, weights, gpt2 ? "transformer.ln_f" : "model.norm", x, tokens);
  return linear(tree, weights, "lm_head", final, tokens);
}

/** Next-token targets: each position predicts the following label; the last predicts nothing. */
export function shiftLabels(labels: number[][]): number[] {
  return labels.flatMap((row) => row.map((_, t) => (t + 1 < row.length ? row[t + 1]! : -100)));
}

/** Per-token losses and their mean over predicted tokens. */
export function referenceLoss(tree: ModelTree, weights: Weights, ids: number[][], labels: number[][] = ids, prompts?: Float64Array): { perToken: Float64Array; mean: number } {
  const logits = referenceLogits(tree, weights, ids, prompts);
  const targets = shiftLabels(labels);
  const { loss } = crossEntropy(logits, targets, tree.config.vocabSize, 1);
  const counted = targets.filter((t) => t >= 0 && t < tree.config.vocabSize).length;
  return { perToken: loss, mean: loss.reduce((a, b) => a + b, 0) / counted };
}
