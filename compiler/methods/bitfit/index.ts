// BitFit (Ben Zaken et al. 2022): only biases are trained.
import type { MethodDefinition } from "../types.js";

export const bitfit: MethodDefinition = {
  name: "bitfit",
  title: "BitFit",
  summary: "trains the biases of the selected modules (every module with a bias when no target is given)",
  targets: "optional",
  hyperparameters: {},
  adapt: {
    kinds: ["linear", "conv1d", "embedding", "norm"],
    tensors: (m) =>
      m.hasBias
        ? [{ name: "bias", shape: [m.outFeatures], init: "the base model's", trainable: true, parameter: false, saved: true }]
        : "has no bias to train",
  },
};
