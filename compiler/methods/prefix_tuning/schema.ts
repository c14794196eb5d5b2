import { fromModel, virtualTokens } from "../fields.js";
import type { HyperparameterSchema } from "../types.js";

export const prefixTuningHyperparameters: Record<string, HyperparameterSchema> = {
  virtual_tokens: virtualTokens(),
  projection: {
    description: "reparameterize the prefixes through Embedding → Linear → tanh → Linear",
    type: "boolean",
    default: false,
    "x-peft": "prefix_projection",
  },
  init: {
    description: "random prefixes, or zero (PEFT's init_weights = \"zero\")",
    enum: ["random", "zero"],
    default: "random",
    "x-peft": "init_weights",
    "x-peft-values": { random: null, zero: "zero" },
  },
  encoder_hidden_size: {
    description: "the hidden size of the projection; defaults to the model's hidden size",
    type: ["integer", "null"],
    minimum: 1,
    default: null,
    "x-peft": "encoder_hidden_size",
  },
  ...fromModel,
};
