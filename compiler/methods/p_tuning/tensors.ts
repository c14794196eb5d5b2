import type { InputAttachment, MethodTensor } from "../types.js";
import { buffer, trainedUnsaved } from "../tensor.js";

const linear = (name: string, inputs: number, outputs: number): MethodTensor[] => [
  trainedUnsaved(`${name}.weight`, [outputs, inputs], "kaiming_uniform"),
  trainedUnsaved(`${name}.bias`, [outputs], "uniform"),
];

export const pTuningInput: InputAttachment = {
  tensors(model, hp) {
    const tokenDim = (hp.token_dim as number | null) ?? model.hiddenSize;
    const hidden = (hp.encoder_hidden_size as number | null) ?? tokenDim;
    const n = hp.virtual_tokens as number;
    const tensors: MethodTensor[] = [trainedUnsaved("prompt_encoder.embedding.weight", [n, tokenDim], "normal(0, 1)")];
    if (hp.encoder === "lstm") {
      // A bidirectional LSTM, then an MLP head from both directions back to the token width.
      for (let layer = 0; layer < (hp.encoder_layers as number); layer++) {
        const inputs = layer === 0 ? tokenDim : 2 * hidden;
        for (const direction of ["", "_reverse"]) {
          tensors.push(
            trainedUnsaved(`prompt_encoder.lstm_head.weight_ih_l${layer}${direction}`, [4 * hidden, inputs], "uniform(-1/√h, 1/√h)"),
            trainedUnsaved(`prompt_encoder.lstm_head.weight_hh_l${layer}${direction}`, [4 * hidden, hidden], "uniform(-1/√h, 1/√h)"),
            trainedUnsaved(`prompt_encoder.lstm_head.bias_ih_l${layer}${direction}`, [4 * hidden], "uniform(-1/√h, 1/√h)"),
            trainedUnsaved(`prompt_encoder.lstm_head.bias_hh_l${layer}${direction}`, [4 * hidden], "uniform(-1/√h, 1/√h)"),
          );
        }
      }
      tensors.push(...linear("prompt_encoder.mlp_head.0", 2 * hidden, 2 * hidden), ...linear("prompt_encoder.mlp_head.2", 2 * hidden, tokenDim));
    } else {
      tensors.push(
        ...linear("prompt_encoder.mlp_head.0", tokenDim, hidden),
        ...linear("prompt_encoder.mlp_head.2", hidden, hidden),
        ...linear("prompt_encoder.mlp_head.4", hidden, tokenDim),
      );
    }
    tensors.push(buffer("prompt_embeddings", [n, tokenDim], "the prompt encoder's output", true));
    return tensors;
  },
  virtualTokens: (hp) => hp.virtual_tokens as number,
};
