// LN tuning (Zhao et al. 2023): only the normalization layers are trained.
import type { MethodDefinition } from "../types.js";
import { lnTuningPeft } from "./peft.js";

export const lnTuning: MethodDefinition = {
  name: "ln_tuning",
  title: "LN tuning",
  summary: "trains the weights (and biases) of the selected normalization layers (every norm when no target is given)",
  targets: "optional",
  hyperparameters: {},
  peft: lnTuningPeft,
};
