import type { InputAttachment, MethodTensor } from "../types.js";
import { buffer, trainedUnsaved } from "../tensor.js";

export const prefixTuningInput: InputAttachment = {
  tensors(model, hp) {
    // With grouped-query attention the prefixes are keys and values of the kv heads.
    const tokenDim = (hp.token_dim as number | null) ?? model.kvHeads * model.headDim;
    const layers = (hp.num_layers as number | null) ?? model.layers;
    const n = hp.virtual_tokens as number;
    const width = layers * 2 * tokenDim;
    const init = hp.init === "zero" ? "zeros" : "normal(0, 1)";
    const tensors: MethodTensor[] = [];
    if (hp.projection) {
      const hidden = (hp.encoder_hidden_size as number | null) ?? tokenDim;
      tensors.push(
        trainedUnsaved("prompt_encoder.embedding.weight", [n, tokenDim], init),
        trainedUnsaved("prompt_encoder.transform.0.weight", [hidden, tokenDim], "kaiming_uniform"),
        trainedUnsaved("prompt_encoder.transform.0.bias", [hidden], "uniform"),
        trainedUnsaved("prompt_encoder.transform.2.weight", [width, hidden], "kaiming_uniform"),
        trainedUnsaved("prompt_encoder.transform.2.bias", [width], "uniform"),
      );
    } else {
      tensors.push(trainedUnsaved("prompt_encoder.embedding.weight", [n, width], init));
    }
    // PEFT saves the encoder's output, the prefixes themselves.
    tensors.push(buffer("prompt_embeddings", [n, width], "the prompt encoder's output", true));
    return tensors;
  },
  virtualTokens: (hp) => hp.virtual_tokens as number,
};
