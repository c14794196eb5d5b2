// LoHa (Hyeon-Woo et al. 2022): a Hadamard product of two low-rank products.
import type { MethodDefinition } from "../types.js";
import { lohaGraph } from "./graph.js";
import { lohaMerge } from "./merge.js";
import { lohaPeft } from "./peft.js";
import { lohaHyperparameters } from "./schema.js";
import { lohaAdaptation } from "./tensors.js";

export const loha: MethodDefinition = {
  name: "loha",
  title: "LoHa",
  summary: "update ((w1a·w1b) ⊙ (w2a·w2b))·alpha/r",
  targets: "required",
  hyperparameters: lohaHyperparameters,
  peft: lohaPeft,
  adapt: lohaAdaptation,
  graph: { linear: lohaGraph, merge: lohaMerge },
};
