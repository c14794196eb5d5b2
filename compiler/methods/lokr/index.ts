// LoKr (Yeh et al. 2023): a Kronecker product of a small and a (low-rank) large factor.
import { error } from "../../../grammar/diagnostics.js";
import type { MethodDefinition } from "../types.js";
import { lokrPeft } from "./peft.js";
import { lokrHyperparameters } from "./schema.js";
import { lokrAdaptation } from "./tensors.js";
import { lokrGraph } from "./graph.js";
import { lokrMerge } from "./merge.js";

export const lokr: MethodDefinition = {
  name: "lokr",
  title: "LoKr",
  summary: "update kron(w1, w2)·alpha/r with w2 (and w1) possibly low-rank",
  targets: "required",
  hyperparameters: lokrHyperparameters,
  crossCheck(hp, context) {
    if (hp.decompose_factor === 0) {
      return [error("decompose_factor must be -1 (automatic) or a positive divisor of the layer's dimensions", context.spanOf("decompose_factor"))];
    }
    return [];
  },
  peft: lokrPeft,
  adapt: lokrAdaptation,
  graph: { linear: lokrGraph, merge: lokrMerge },
};
