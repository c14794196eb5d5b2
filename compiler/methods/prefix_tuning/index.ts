// Prefix tuning (Li & Liang 2021): trained keys and values prepended in every attention layer.
import type { MethodDefinition } from "../types.js";
import { prefixTuningPeft } from "./peft.js";
import { prefixTuningHyperparameters } from "./schema.js";
import { prefixTuningInput } from "./tensors.js";

export const prefixTuning: MethodDefinition = {
  name: "prefix_tuning",
  title: "Prefix tuning",
  summary: "per-layer key and value prefixes that every attention layer attends to",
  targets: "none",
  hyperparameters: prefixTuningHyperparameters,
  peft: prefixTuningPeft,
  input: prefixTuningInput,
};
