// VeRA (Kopiczko et al. 2024): shared frozen random projections, scaled per layer.
import type { MethodDefinition } from "../types.js";
import { veraGraph } from "./graph.js";
import { veraMerge } from "./merge.js";
import { veraPeft } from "./peft.js";
import { veraHyperparameters } from "./schema.js";
import { veraAdaptation } from "./tensors.js";

export const vera: MethodDefinition = {
  name: "vera",
  title: "VeRA",
  summary: "update λ_b ⊙ B·(λ_d ⊙ A·x) with A, B frozen, random and shared by all layers",
  targets: "required",
  hyperparameters: veraHyperparameters,
  peft: veraPeft,
  adapt: veraAdaptation,
  graph: { linear: veraGraph, merge: veraMerge },
};
