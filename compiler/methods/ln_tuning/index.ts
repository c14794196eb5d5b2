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
  adapt: {
    kinds: ["norm"],
    // PEFT trains a copy of each norm layer beside the frozen original.
    tensors: (m) => [
      { name: "ln_tuning_layers.weight", shape: [m.outFeatures], init: "a copy of the norm's", trainable: true, parameter: true, saved: true },
      ...(m.hasBias ? [{ name: "ln_tuning_layers.bias", shape: [m.outFeatures], init: "a copy of the norm's", trainable: true, parameter: true, saved: true }] : []),
    ],
  },
};
