// OFT (Qiu et al. 2023): a block-diagonal orthogonal rotation of the layer's input.
import { error } from "../../../grammar/diagnostics.js";
import type { MethodDefinition } from "../types.js";
import { oftPeft } from "./peft.js";
import { oftHyperparameters } from "./schema.js";
import { oftAdaptation } from "./tensors.js";

export const oft: MethodDefinition = {
  name: "oft",
  title: "OFT",
  summary: "block-diagonal orthogonal rotation R of the input: y = (x·R)·Wᵀ",
  targets: "required",
  hyperparameters: oftHyperparameters,
  crossCheck(hp, context) {
    const blockSize = context.isSet("r") && !context.isSet("block_size") ? 0 : hp.block_size;
    if (hp.r === 0 && blockSize === 0) {
      return [error("OFT needs r (the number of blocks) or block_size; both are 0", context.spanOf("r"))];
    }
    if (hp.r !== 0 && blockSize !== 0) {
      return [error(`give r (${String(hp.r)}) or block_size (${String(blockSize)}), not both: each decides the other`,
        context.spanOf("block_size"), "set the other to 0, or leave it out")];
    }
    return [];
  },
  normalize(hp, context) {
    // Writing r alone means "r blocks": the default block size steps aside, as PEFT's r=… does.
    if (context.isSet("r") && !context.isSet("block_size")) hp.block_size = 0;
  },
  peft: oftPeft,
  adapt: oftAdaptation,
};
