// LLaMA-Adapter (Zhang et al. 2023): zero-gated adaption prompts in the top attention layers.
import type { MethodDefinition } from "../types.js";
import { llamaAdapterPeft } from "./peft.js";
import { llamaAdapterHyperparameters } from "./schema.js";
import { llamaAdapterInput } from "./tensors.js";

export const llamaAdapter: MethodDefinition = {
  name: "llama_adapter",
  title: "LLaMA-Adapter",
  summary: "learned prompts attended through a zero-init gate in the top attention layers",
  targets: "none",
  hyperparameters: llamaAdapterHyperparameters,
  peft: llamaAdapterPeft,
  input: llamaAdapterInput,
};
