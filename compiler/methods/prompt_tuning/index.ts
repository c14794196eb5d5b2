// Prompt tuning (Lester et al. 2021): trained embeddings prepended to the input.
import type { MethodDefinition } from "../types.js";
import { promptTuningGraph } from "./graph.js";
import { promptTuningPeft } from "./peft.js";
import { promptTuningHyperparameters } from "./schema.js";
import { promptTuningInput } from "./tensors.js";

export const promptTuning: MethodDefinition = {
  name: "prompt_tuning",
  title: "Prompt tuning",
  summary: "virtual-token embeddings prepended to the input embeddings",
  targets: "none",
  hyperparameters: promptTuningHyperparameters,
  peft: promptTuningPeft,
  input: promptTuningInput,
  graph: { input: promptTuningGraph },
};
