// LoRA on an embedding layer, as PEFT's lora.Embedding: A (r, vocab) and
// B (dim, r), and for ids x
//   y = E[x] + s·A[:, x]ᵀ·Bᵀ
// (no dropout: PEFT's embedding LoRA applies none). A's columns are gathered
// in place of a row gather, and its gradient scattered back into columns.
//   dB = s·dyᵀ·u      du = s·dy·B      dA[:, x] += du
import { embeddingBackward, embeddingForward } from "../../codegen/embedding.js";
import { gemm } from "../../codegen/gemm.js";
import { UserError } from "../../errors.js";
import type { EmbeddingHook, EmbeddingSite } from "../../graph/embedding.js";
import type { GraphBuilder, TrainedTensor } from "../../graph/builder.js";
import type { InitSpec } from "../../graph/types.js";
import type { PlanModule } from "../../resolve/plan-types.js";

/** PEFT: A zeros and B normal (std 1) by default; both normal when init_lora_weights=False. */
function initOf(module: PlanModule, which: "A" | "B"): InitSpec {
  if (which === "B" || module.hyperparameters.init === "random") return { kind: "normal", std: 1 };
  return { kind: "zeros" };
}

export function loraEmbeddingTensors(g: GraphBuilder, module: PlanModule): { A: TrainedTensor; B: TrainedTensor } {
  const key = (suffix: string) => `base_model.model.${module.path}.${suffix}`;
  const r = module.hyperparameters.r as number;
  return {
    A: g.parameter(key("lora_embedding_A"), [r, module.inFeatures], initOf(module, "A"), { key: key("lora_embedding_A") }),
    B: g.parameter(key("lora_embedding_B"), [module.outFeatures, r], initOf(module, "B"), { key: key("lora_embedding_B") }),
  };
}

const uName = (site: EmbeddingSite) => `u:${site.path}`;

export const loraEmbedding: EmbeddingHook = {
  forward(site, module, { g, device }) {
    if (module.hyperparameters.use_dora) throw new UserError(`${module.path}: DoRA on an embedding is not supported by the graph yet`);
    const r = module.hyperparameters.r as number;
    const t = loraEmbeddingTensors(g, module);
    const u = g.activation(uName(site), [site.tokens, r]);
    g.op("forward", embeddingForward({ tokens: site.tokens, vocab: site.vocab, D: r, transposed: true }, device), { ids: site.ids, table: t.A.param, out: u }, `${module.path} lora u = A[:, ids]ᵀ`);
    g.op("forward", gemm({ M: site.tokens, N: site.dim, K: r, transB: true, alpha: module.scaling!, accumulate: true }, device),
      { a: u, b: t.B.param, c: site.y }, `${module.path} lora y += s·u·Bᵀ`);
  },

  backward(site, module, { g, device }, dy) {
    const r = module.hyperparameters.r as number;
    const s = module.scaling!;
    const t = loraEmbeddingTensors(g, module);
    const u = g.activation(uName(site), [site.tokens, r]);
    g.op("backward", gemm({ M: site.dim, N: r, K: site.tokens, transA: true, alpha: s, accumulate: true }, device), { a: dy, b: u, c: t.B.grad }, `${module.path} lora dB = s·dyᵀ·u`);
    const du = g.activation(`du:${site.path}`, [site.tokens, r]);
    g.op("backward", gemm({ M: site.tokens, N: r, K: site.dim, alpha: s }, device), { a: dy, b: t.B.param, c: du }, `${module.path} lora du = s·dy·B`);
    const scatter = embeddingBackward({ tokens: site.tokens, vocab: site.vocab, D: r, transposed: true }, device);
    g.plan("backward", scatter, { ids: site.ids, dout: du, dtable: t.A.grad }, `${module.path} lora dA[:, ids] += du`);
  },
};
