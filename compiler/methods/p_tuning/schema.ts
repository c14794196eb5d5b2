import { fromModel, virtualTokens } from "../fields.js";
import type { HyperparameterSchema } from "../types.js";

export const pTuningHyperparameters: Record<string, HyperparameterSchema> = {
  virtual_tokens: virtualTokens(),
  encoder: {
    description: "the prompt encoder: mlp (3 linears with ReLU) or lstm (a bidirectional LSTM, then an MLP)",
    enum: ["mlp", "lstm"],
    default: "mlp",
    "x-peft": "encoder_reparameterization_type",
    "x-peft-values": { mlp: "MLP", lstm: "LSTM" },
  },
  encoder_hidden_size: {
    description: "the encoder's hidden size; defaults to the model's hidden size",
    type: ["integer", "null"],
    minimum: 1,
    default: null,
    "x-peft": "encoder_hidden_size",
  },
  encoder_layers: {
    description: "LSTM layers of the lstm encoder",
    type: "integer",
    minimum: 1,
    default: 2,
    "x-peft": "encoder_num_layers",
  },
  encoder_dropout: {
    description: "dropout inside the encoder during training",
    type: "number",
    minimum: 0,
    exclusiveMaximum: 1,
    default: 0,
    "x-peft": "encoder_dropout",
  },
  ...fromModel,
};
