import { biasFor, fanInFanOut, initWeights, probability } from "../fields.js";
import type { HyperparameterSchema } from "../types.js";

export const oftHyperparameters: Record<string, HyperparameterSchema> = {
  r: {
    description: "the number of orthogonal blocks; give r or block_size, not both (0: use block_size)",
    type: "integer",
    minimum: 0,
    default: 0,
    "x-peft": "r",
  },
  block_size: {
    description: "the size of each orthogonal block; give r or block_size, not both (0: use r)",
    type: "integer",
    minimum: 0,
    default: 32,
    "x-peft": "oft_block_size",
  },
  module_dropout: probability("multiplicative dropout: probability of replacing a block by the identity in training", "module_dropout"),
  coft: {
    description: "constrained OFT: keep the rotation within eps of the identity",
    type: "boolean",
    default: false,
    "x-peft": "coft",
  },
  eps: {
    description: "the COFT constraint radius",
    type: "number",
    exclusiveMinimum: 0,
    default: 6e-5,
    "x-peft": "eps",
  },
  block_share: {
    description: "one rotation block shared by all blocks of a layer",
    type: "boolean",
    default: false,
    "x-peft": "block_share",
  },
  cayley_neumann: {
    description: "approximate the Cayley transform by a Neumann series instead of a matrix inverse",
    type: "boolean",
    default: true,
    "x-peft": "use_cayley_neumann",
  },
  terms: {
    description: "terms of the Neumann series",
    type: "integer",
    minimum: 1,
    default: 5,
    "x-peft": "num_cayley_neumann_terms",
  },
  bias: biasFor("oft_only"),
  fan_in_fan_out: fanInFanOut,
  init_weights: initWeights("start at the identity rotation (false: random skew parameters)"),
};
