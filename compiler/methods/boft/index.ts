// BOFT (Liu et al. 2024): a product of butterfly-permuted block-diagonal rotations, and an output scale.
import { error } from "../../../grammar/diagnostics.js";
import type { MethodDefinition } from "../types.js";
import { boftPeft } from "./peft.js";
import { boftHyperparameters } from "./schema.js";
import { boftAdaptation } from "./tensors.js";

export const boft: MethodDefinition = {
  name: "boft",
  title: "BOFT",
  summary: "butterfly orthogonal rotation R = Π Pᵢ·blockdiag(Rᵢ)·Pᵢᵀ of the input, and an output scale s",
  targets: "required",
  hyperparameters: boftHyperparameters,
  crossCheck(hp, context) {
    const blockSize = context.isSet("block_num") && !context.isSet("block_size") ? 0 : hp.block_size;
    if (blockSize === 0 && hp.block_num === 0) {
      return [error("BOFT needs block_size or block_num; both are 0", context.spanOf("block_size"))];
    }
    if (blockSize !== 0 && hp.block_num !== 0) {
      return [error(`give block_size (${String(blockSize)}) or block_num (${String(hp.block_num)}), not both`,
        context.spanOf("block_num"), "set the other to 0, or leave it out")];
    }
    return [];
  },
  normalize(hp, context) {
    if (context.isSet("block_num") && !context.isSet("block_size")) hp.block_size = 0;
  },
  peft: boftPeft,
  adapt: boftAdaptation,
};
