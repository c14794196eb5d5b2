import type { InputAttachment } from "../types.js";
import { trained } from "../tensor.js";

export const promptTuningInput: InputAttachment = {
  tensors(model, hp) {
    const tokens = (hp.virtual_tokens as number) * ((hp.num_transformer_submodules as number | null) ?? 1);
    const dim = (hp.token_dim as number | null) ?? model.hiddenSize;
    const init = hp.init;
    const how = typeof init === "object" && init ? "embeddings of the init text" : init === "sample_vocab" ? "rows of the vocabulary" : "normal(0, 1)";
    return [trained("prompt_embeddings", [tokens, dim], how)];
  },
  virtualTokens: (hp) => hp.virtual_tokens as number,
};
