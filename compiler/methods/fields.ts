// Hyperparameters that several methods share in PEFT, spelled once.
import type { HyperparameterSchema } from "./types.js";

export function rank(defaultRank: number, description: string, pattern?: string): HyperparameterSchema {
  return {
    description,
    type: "integer",
    minimum: 1,
    default: defaultRank,
    "x-peft": "r",
    ...(pattern ? { "x-per-target": true, "x-peft-pattern": pattern } : {}),
  };
}

export function alpha(defaultAlpha: number, peftName: string, pattern?: string): HyperparameterSchema {
  return {
    description: "scaling numerator: the update is scaled by alpha/r",
    type: "number",
    exclusiveMinimum: 0,
    default: defaultAlpha,
    "x-peft": peftName,
    ...(pattern ? { "x-per-target": true, "x-peft-pattern": pattern } : {}),
  };
}

export function probability(description: string, peftName: string): HyperparameterSchema {
  return { description, type: "number", minimum: 0, exclusiveMaximum: 1, default: 0, "x-peft": peftName };
}

/** PEFT's per-method spelling of "biases of adapted modules only". */
export function biasFor(onlyName: string): HyperparameterSchema {
  return {
    description: `which biases train: none, all (every bias in the model), or ${onlyName} (biases of adapted modules)`,
    enum: ["none", "all", onlyName],
    default: "none",
    "x-peft": "bias",
  };
}

export const fanInFanOut: HyperparameterSchema = {
  description: "the base weight is stored (in, out), as GPT-2's Conv1D; set from the model when resolved",
  type: "boolean",
  default: false,
  "x-peft": "fan_in_fan_out",
};

export function initWeights(description: string, peftName = "init_weights"): HyperparameterSchema {
  return { description, type: "boolean", default: true, "x-peft": peftName };
}

export function virtualTokens(): HyperparameterSchema {
  return { description: "the number of virtual tokens", type: "integer", minimum: 1, default: 20, "x-peft": "num_virtual_tokens" };
}

/** Prompt-learning fields PEFT fills from the model at run time and then saves. */
export const fromModel: Record<string, HyperparameterSchema> = {
  token_dim: {
    description: "the model's hidden size; filled from the model when absent",
    type: ["integer", "null"],
    minimum: 1,
    default: null,
    "x-peft": "token_dim",
  },
  num_transformer_submodules: {
    description: "1 for decoder-only models, 2 for encoder-decoder; filled from the model when absent",
    type: ["integer", "null"],
    minimum: 1,
    default: null,
    "x-peft": "num_transformer_submodules",
  },
  num_attention_heads: {
    description: "the model's attention heads; filled from the model when absent",
    type: ["integer", "null"],
    minimum: 1,
    default: null,
    "x-peft": "num_attention_heads",
  },
  num_layers: {
    description: "the model's layers; filled from the model when absent",
    type: ["integer", "null"],
    minimum: 1,
    default: null,
    "x-peft": "num_layers",
  },
};
