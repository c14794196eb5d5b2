import { alpha, probability, rank } from "../fields.js";
import type { HyperparameterSchema } from "../types.js";

export const lokrHyperparameters: Record<string, HyperparameterSchema> = {
  r: rank(8, "the rank of the low-rank Kronecker factors (used where a factor is decomposed)", "rank_pattern"),
  alpha: alpha(8, "alpha", "alpha_pattern"),
  rank_dropout: probability("dropout over the rank dimension during training", "rank_dropout"),
  module_dropout: probability("probability of skipping the whole adapter for a training step", "module_dropout"),
  decompose_both: {
    description: "decompose the left Kronecker factor w1 into a rank-r product too",
    type: "boolean",
    default: false,
    "x-peft": "decompose_both",
  },
  decompose_factor: {
    description: "the size of the left factor's dimensions; -1 chooses the most square factorization",
    type: "integer",
    minimum: -1,
    default: -1,
    "x-peft": "decompose_factor",
  },
  rank_dropout_scale: {
    description: "rescale by the kept fraction when rank dropout is on",
    type: "boolean",
    default: false,
    "x-peft": "rank_dropout_scale",
  },
  init: {
    description: "default (w1 = 0: the update starts at zero), lycoris (LyCORIS's init, also zero at start) or random",
    enum: ["default", "lycoris", "random"],
    default: "default",
    "x-peft": "init_weights",
    "x-peft-values": { default: true, lycoris: "lycoris", random: false },
  },
};
