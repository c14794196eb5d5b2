// P-tuning (Liu et al. 2021): virtual tokens produced by a small trained encoder.
import type { MethodDefinition } from "../types.js";
import { pTuningGraph } from "./graph.js";
import { pTuningPeft } from "./peft.js";
import { pTuningHyperparameters } from "./schema.js";
import { pTuningInput } from "./tensors.js";

export const pTuning: MethodDefinition = {
  name: "p_tuning",
  title: "P-tuning",
  summary: "virtual-token embeddings from an MLP or LSTM prompt encoder, prepended to the input",
  targets: "none",
  hyperparameters: pTuningHyperparameters,
  peft: pTuningPeft,
  input: pTuningInput,
  graph: { input: pTuningGraph },
};
