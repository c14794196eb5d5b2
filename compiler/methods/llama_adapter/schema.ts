import type { HyperparameterSchema } from "../types.js";

export const llamaAdapterHyperparameters: Record<string, HyperparameterSchema> = {
  adapter_len: {
    description: "the number of adaption-prompt tokens per adapted layer",
    type: "integer",
    minimum: 1,
    default: 10,
    "x-peft": "adapter_len",
  },
  adapter_layers: {
    description: "how many of the top layers get an adaption prompt",
    type: "integer",
    minimum: 1,
    default: 30,
    "x-peft": "adapter_layers",
  },
  attention: {
    description: "the name of the attention submodule in each layer (PEFT's target_modules); defaults to the model's",
    type: ["string", "null"],
    default: null,
    "x-peft": "target_modules",
  },
};
