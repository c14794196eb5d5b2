// The Llama block (Mistral and Qwen2 share it): pre-norm attention with RoPE
// and grouped-query heads, then a SwiGLU MLP, each around a residual.
import type { FamilyForward } from "../../graph/family-forward.js";

export const llamaForward: FamilyForward = {
  finalNorm: "model.norm",

  embed(L, ids, phase, suffix) {
    return L.inputSite(L.embedTokens(L.module("model.embed_tokens"), ids, `embed.out${suffix}`, "embed forward", phase), L.module("model.embed_tokens"));
  },

  block(L, l, x) {
    const p = `model.layers.${l}`;
    const n1 = L.norm(`${p}.input_layernorm`, x, `${p}.n1`);
    const q = L.linear(`${p}.self_attn.q_proj`, n1, `${p}.q`);
    const k = L.linear(`${p}.self_attn.k_proj`, n1, `${p}.k`);
    const v = L.linear(`${p}.self_attn.v_proj`, n1, `${p}.v`);
    const a = L.attention(l, q, k, v);
    const o = L.linear(`${p}.self_attn.o_proj`, a, `${p}.o`);
    const mid = L.residual(x, o, `${p}.mid`, `block ${l} residual`);
    const n2 = L.norm(`${p}.post_attention_layernorm`, mid, `${p}.n2`);
    // Gradient checkpointing: a frozen MLP's gate and up (and the normed input they read) are made again in the backward.
    const recomputeInBackward = L.recomputable([`${p}.mlp.gate_proj`, `${p}.mlp.up_proj`, `${p}.mlp.down_proj`]);
    const gate = L.linear(`${p}.mlp.gate_proj`, n2, `${p}.gate`, { recomputeInBackward });
    const up = L.linear(`${p}.mlp.up_proj`, n2, `${p}.up`, { recomputeInBackward });
    const h = L.swiglu(gate, up, `${p}.h`, l);
    const down = L.linear(`${p}.mlp.down_proj`, h, `${p}.down`);
    return L.residual(mid, down, `${p}.out`, `block ${l} residual`);
  },
};
