// LoRA (Hu et al. 2021), with rsLoRA scaling and DoRA's magnitude vector.
import type { MethodDefinition } from "../types.js";
import { loraPeft } from "./peft.js";
import { loraHyperparameters } from "./schema.js";
import { loraAdaptation } from "./tensors.js";
import { loraGraph } from "./graph.js";
import { loraEmbedding } from "./embedding.js";
import { loraMerge } from "./merge.js";
import { loraMixed } from "./mixed.js";
import { loraCombiner } from "./combine.js";

export const lora: MethodDefinition = {
  name: "lora",
  title: "LoRA",
  summary: "low-rank update W + (alpha/r)·B·A on linear layers",
  targets: "required",
  hyperparameters: loraHyperparameters,
  peft: loraPeft,
  adapt: loraAdaptation,
  graph: { linear: loraGraph, embedding: loraEmbedding, merge: loraMerge, mixed: loraMixed },
  combine: loraCombiner,
};
