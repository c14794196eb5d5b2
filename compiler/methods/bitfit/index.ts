// BitFit (Ben Zaken et al. 2022): only biases are trained.
import type { MethodDefinition } from "../types.js";

export const bitfit: MethodDefinition = {
  name: "bitfit",
  title: "BitFit",
  summary: "trains the biases of the selected modules (every module with a bias when no target is given)",
  targets: "optional",
  hyperparameters: {},
};
