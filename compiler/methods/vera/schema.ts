import { biasFor, fanInFanOut, initWeights, probability } from "../fields.js";
import type { HyperparameterSchema } from "../types.js";

export const veraHyperparameters: Record<string, HyperparameterSchema> = {
  r: {
    description: "the rank of the shared frozen projections",
    type: "integer",
    minimum: 1,
    default: 256,
    "x-peft": "r",
  },
  projection_prng_key: {
    description: "the seed of the shared frozen projections vera_A and vera_B",
    type: "integer",
    minimum: 0,
    default: 0,
    "x-peft": "projection_prng_key",
  },
  save_projection: {
    description: "save vera_A and vera_B with the adapter (otherwise they are regenerated from the seed)",
    type: "boolean",
    default: true,
    "x-peft": "save_projection",
  },
  dropout: probability("dropout probability on the adapter's input during training", "vera_dropout"),
  d_initial: {
    description: "the initial value of the per-layer vector λ_d",
    type: "number",
    default: 0.1,
    "x-peft": "d_initial",
  },
  bias: biasFor("vera_only"),
  fan_in_fan_out: fanInFanOut,
  init_weights: initWeights("PEFT's init: λ_b = 0, λ_d = d_initial"),
};
