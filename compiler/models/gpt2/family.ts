// GPT-2: Conv1D layers that store their weight as (in, out), a fused c_attn
// (q, k and v in one), learned positions, LayerNorm, and an lm_head tied to wte.
import { configNumber, positiveInteger, tokenId, type ExpectedModule, type ModelFamily } from "../family.js";
import { gpt2Forward } from "./forward.js";

export const gpt2Family: ModelFamily = {
  name: "gpt2",
  forward: gpt2Forward,
  modelTypes: ["gpt2"],
  // Older checkpoints carry the causal-mask buffers.
  ignorable: [/\.attn\.bias$/, /\.attn\.masked_bias$/],

  activationFloats(c, seqLen) {
    // Saved per token: block input, ln_1, q/k/v, attention probabilities, attention
    // output, residual, ln_2, the MLP's expansion and its GELU.
    const perLayer = 8 * c.hiddenSize + c.heads * seqLen + 2 * c.intermediateSize;
    return { perLayer, head: c.hiddenSize + 2 * c.vocabSize };
  },

  readConfig(json, file) {
    const embd = positiveInteger(json, file, "n_embd");
    const heads = positiveInteger(json, file, "n_head");
    if (embd % heads !== 0) throw new Error(`${file}: n_embd (${embd}) is not a multiple of n_head (${heads})`);
    return {
      modelType: "gpt2",
      hiddenSize: embd,
      layers: positiveInteger(json, file, "n_layer"),
      heads,
      kvHeads: heads,
      headDim: embd / heads,
      intermediateSize: positiveInteger(json, file, "n_inner", 4 * embd),
      vocabSize: positiveInteger(json, file, "vocab_size"),
      maxPositions: positiveInteger(json, file, "n_positions", 1024),
      normEps: configNumber(json, file, "layer_norm_epsilon", 1e-5),
      ropeTheta: null,
      tiedEmbeddings: json.tie_word_embeddings !== false,
      attentionBias: "all",
      mlpBias: true,
      activation: typeof json.activation_function === "string" ? json.activation_function : "gelu_new",
      blockPrefix: "transformer.h",
      attentionName: "attn",
      bosTokenId: tokenId(json, "bos_token_id"),
      eosTokenId: tokenId(json, "eos_token_id"),
    };
  },

  expectedModules(config, names) {
    const { hiddenSize: e, intermediateSize: inner, vocabSize: vocab, maxPositions: positions } = config;
    // The module tree is GPT2LMHeadModel's; checkpoints of the bare GPT2Model drop "transformer.".
    const prefix = names.has("transformer.wte.weight") || !names.has("wte.weight") ? "transformer." : "";
    const modules: ExpectedModule[] = [];
    const conv1d = (path: string, role: string, layer: number, inF: number, outF: number): ExpectedModule => ({
      path,
      kind: "conv1d",
      role,
      layer,
      inFeatures: inF,
      outFeatures: outF,
      weight: { name: `${prefix}${path.slice("transformer.".length)}.weight`, shape: [inF, outF] },
      bias: { name: `${prefix}${path.slice("transformer.".length)}.bias`, shape: [outF] },
    });
    const layerNorm = (path: string, role: string, layer: number | null): ExpectedModule => ({
      path,
      kind: "norm",
      role,
      layer,
      inFeatures: e,
      outFeatures: e,
      weight: { name: `${prefix}${path.slice("transformer.".length)}.weight`, shape: [e] },
      bias: { name: `${prefix}${path.slice("transformer.".length)}.bias`, shape: [e] },
      norm: "layer",
    });
    const embedding = (path: string, role: string, rows: number): ExpectedModule => ({
      path, kind: "embedding", role, layer: null, inFeatures: rows, outFeatures: e,
      weight: { name: `${prefix}${path.slice("transformer.".length)}.weight`, shape: [rows, e] },
    });
    modules.push(embedding("transformer.wte", "wte", vocab));
    modules.push(embedding("transformer.wpe", "wpe", positions));
    for (let l = 0; l < config.layers; l++) {
      const p = `transformer.h.${l}`;
      modules.push(layerNorm(`${p}.ln_1`, "ln_1", l));
      modules.push(conv1d(`${p}.attn.c_attn`, "attn.c_attn", l, e, 3 * e));
      modules.push(conv1d(`${p}.attn.c_proj`, "attn.c_proj", l, e, e));
      modules.push(layerNorm(`${p}.ln_2`, "ln_2", l));
      modules.push(conv1d(`${p}.mlp.c_fc`, "mlp.c_fc", l, e, inner));
      modules.push(conv1d(`${p}.mlp.c_proj`, "mlp.c_proj", l, inner, e));
    }
    modules.push(layerNorm("transformer.ln_f", "ln_f", null));
    modules.push({
      path: "lm_head", kind: "linear", role: "lm_head", layer: null, inFeatures: e, outFeatures: vocab,
      weight: { name: "lm_head.weight", shape: [vocab, e] }, outputEmbedding: true,
      ...(config.tiedEmbeddings ? { tiedTo: "transformer.wte" } : {}),
    });
    return modules;
  },
};
