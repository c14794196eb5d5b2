// Prompt tuning's input-site hook: the trained prompt embeddings are the
// virtual tokens' rows themselves.
import type { InitSpec } from "../../graph/types.js";
import type { InputHook } from "../../graph/input-site.js";

export const promptTuningGraph: InputHook = {
  prompts(site, ctx) {
    const init = ctx.adapter.hyperparameters.init as "random" | "sample_vocab" | { text: string };
    // PEFT: torch.nn.Embedding's normal(0, 1), rows of the vocabulary, or the init text's token embeddings.
    const spec: InitSpec = init === "random"
      ? { kind: "normal", std: 1 }
      : init === "sample_vocab"
        ? { kind: "embedding_rows", from: site.embeddingTensor, dim: site.dim, sample: true }
        : { kind: "embedding_rows", from: site.embeddingTensor, dim: site.dim, text: init.text };
    const p = ctx.g.parameter("prompt_embeddings", [site.virtualTokens, site.dim], spec, { key: "prompt_embeddings" });
    return { value: p.param, grad: p.grad };
  },
};
