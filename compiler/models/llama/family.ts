// Llama and the architectures that share its module tree: Mistral and Qwen2.
// GQA through num_key_value_heads; attention_bias (Llama) or Qwen2's q/k/v
// biases; optional tied embeddings; RMSNorm and RoPE.
import { configNumber, positiveInteger, tokenId, type ExpectedModule, type ModelFamily } from "../family.js";
import { llamaForward } from "./forward.js";

export const llamaFamily: ModelFamily = {
  name: "llama",
  forward: llamaForward,
  modelTypes: ["llama", "mistral", "qwen2"],
  ignorable: [/\.rotary_emb\.inv_freq$/],

  activationFloats(c, seqLen) {
    // Saved per token: block input, normed input, q, k, v, attention probabilities,
    // attention output, residual, normed residual, gate, up and their product.
    const perLayer = 4 * c.hiddenSize + 2 * c.heads * c.headDim + 2 * c.kvHeads * c.headDim + c.heads * seqLen + 3 * c.intermediateSize;
    return { perLayer, head: c.hiddenSize + 2 * c.vocabSize };
  },

  readConfig(json, file) {
    const hidden = positiveInteger(json, file, "hidden_size");
    const heads = positiveInteger(json, file, "num_attention_heads");
    const kvHeads = positiveInteger(json, file, "num_key_value_heads", heads);
    if (heads % kvHeads !== 0) throw new Error(`${file}: num_attention_heads (${heads}) is not a multiple of num_key_value_heads (${kvHeads})`);
    const headDim = positiveInteger(json, file, "head_dim", Math.floor(hidden / heads));
    const scaling = json.rope_scaling;
    if (scaling !== null && scaling !== undefined) {
      throw new Error(`${file}: rope_scaling ${JSON.stringify(scaling)} is not supported yet (plain RoPE only)`);
    }
    const modelType = String(json.model_type);
    return {
      modelType,
      hiddenSize: hidden,
      layers: positiveInteger(json, file, "num_hidden_layers"),
      heads,
      kvHeads,
      headDim,
      intermediateSize: positiveInteger(json, file, "intermediate_size"),
      vocabSize: positiveInteger(json, file, "vocab_size"),
      maxPositions: positiveInteger(json, file, "max_position_embeddings", 2048),
      normEps: configNumber(json, file, "rms_norm_eps", 1e-6),
      ropeTheta: configNumber(json, file, "rope_theta", 10000),
      tiedEmbeddings: json.tie_word_embeddings === true,
      activation: typeof json.hidden_act === "string" ? json.hidden_act : "silu",
      blockPrefix: "model.layers",
      attentionName: "self_attn",
      bosTokenId: tokenId(json, "bos_token_id"),
      eosTokenId: tokenId(json, "eos_token_id"),
      // Qwen2 always has q/k/v biases; Llama and Mistral have all four when attention_bias is set.
      attentionBias: modelType === "qwen2" ? "qkv" : json.attention_bias === true ? "all" : "none",
      mlpBias: json.mlp_bias === true,
    };
  },

  expectedModules(config) {
    const c = config;
    const { hiddenSize: h, headDim: d, heads, kvHeads, intermediateSize: inter, vocabSize: vocab } = c;
    const modules: ExpectedModule[] = [];
    const linear = (path: string, role: string, layer: number | null, inF: number, outF: number, bias: boolean): ExpectedModule => ({
      path,
      kind: "linear",
      role,
      layer,
      inFeatures: inF,
      outFeatures: outF,
      weight: { name: `${path}.weight`, shape: [outF, inF] },
      ...(bias ? { bias: { name: `${path}.bias`, shape: [outF] } } : {}),
    });
    const norm = (path: string, role: string, layer: number | null): ExpectedModule => ({
      path, kind: "norm", role, layer, inFeatures: h, outFeatures: h, weight: { name: `${path}.weight`, shape: [h] }, norm: "rms",
    });
    modules.push({
      path: "model.embed_tokens", kind: "embedding", role: "embed_tokens", layer: null,
      inFeatures: vocab, outFeatures: h, weight: { name: "model.embed_tokens.weight", shape: [vocab, h] },
    });
    for (let l = 0; l < c.layers; l++) {
      const p = `model.layers.${l}`;
      const qkvBias = c.attentionBias !== "none";
      modules.push(norm(`${p}.input_layernorm`, "input_layernorm", l));
      modules.push(linear(`${p}.self_attn.q_proj`, "self_attn.q_proj", l, h, heads * d, qkvBias));
      modules.push(linear(`${p}.self_attn.k_proj`, "self_attn.k_proj", l, h, kvHeads * d, qkvBias));
      modules.push(linear(`${p}.self_attn.v_proj`, "self_attn.v_proj", l, h, kvHeads * d, qkvBias));
      modules.push(linear(`${p}.self_attn.o_proj`, "self_attn.o_proj", l, heads * d, h, c.attentionBias === "all"));
      modules.push(norm(`${p}.post_attention_layernorm`, "post_attention_layernorm", l));
      modules.push(linear(`${p}.mlp.gate_proj`, "mlp.gate_proj", l, h, inter, c.mlpBias));
      modules.push(linear(`${p}.mlp.up_proj`, "mlp.up_proj", l, h, inter, c.mlpBias));
      modules.push(linear(`${p}.mlp.down_proj`, "mlp.down_proj", l, inter, h, c.mlpBias));
    }
    modules.push(norm("model.norm", "norm", null));
    modules.push({
      ...linear("lm_head", "lm_head", null, h, vocab, false),
      outputEmbedding: true,
      ...(c.tiedEmbeddings ? { tiedTo: "model.embed_tokens" } : {}),
    });
    return modules;
  },
};
