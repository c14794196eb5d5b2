import { biasFor, fanInFanOut, initWeights, probability } from "../fields.js";
import type { HyperparameterSchema } from "../types.js";

export const boftHyperparameters: Record<string, HyperparameterSchema> = {
  block_size: {
    description: "the size of each orthogonal block; give block_size or block_num, not both (0: use block_num)",
    type: "integer",
    minimum: 0,
    default: 4,
    "x-peft": "boft_block_size",
  },
  block_num: {
    description: "the number of orthogonal blocks; give block_size or block_num, not both (0: use block_size)",
    type: "integer",
    minimum: 0,
    default: 0,
    "x-peft": "boft_block_num",
  },
  butterfly_factor: {
    description: "the number of butterfly factors multiplied into the rotation",
    type: "integer",
    minimum: 1,
    default: 1,
    "x-peft": "boft_n_butterfly_factor",
  },
  dropout: probability("multiplicative dropout over the rotation blocks in training", "boft_dropout"),
  bias: biasFor("boft_only"),
  fan_in_fan_out: fanInFanOut,
  init_weights: initWeights("start at the identity rotation (false: random parameters)"),
};
