// Every method peftc knows: one line each. A method's knowledge lives in its folder.
import { adalora } from "./adalora/index.js";
import { bitfit } from "./bitfit/index.js";
import { boft } from "./boft/index.js";
import { commonHyperparameters, targetingHyperparameters } from "./common.js";
import { full } from "./full/index.js";
import { ia3 } from "./ia3/index.js";
import { llamaAdapter } from "./llama_adapter/index.js";
import { lnTuning } from "./ln_tuning/index.js";
import { loha } from "./loha/index.js";
import { lokr } from "./lokr/index.js";
import { lora } from "./lora/index.js";
import { oft } from "./oft/index.js";
import { pTuning } from "./p_tuning/index.js";
import { prefixTuning } from "./prefix_tuning/index.js";
import { promptTuning } from "./prompt_tuning/index.js";
import type { HyperparameterSchema, MethodDefinition } from "./types.js";
import { vera } from "./vera/index.js";

const METHODS: MethodDefinition[] = [
  lora,
  loha,
  lokr,
  oft,
  boft,
  adalora,
  ia3,
  vera,
  promptTuning,
  prefixTuning,
  pTuning,
  llamaAdapter,
  full,
  bitfit,
  lnTuning,
];

const byName = new Map(METHODS.map((m) => [m.name, m]));

export function allMethods(): readonly MethodDefinition[] {
  return METHODS;
}

export function findMethod(name: string): MethodDefinition | undefined {
  return byName.get(name);
}

/** The method's hyperparameters with the common ones, in the order documentation shows them. */
export function hyperparametersOf(method: MethodDefinition): Record<string, HyperparameterSchema> {
  return {
    ...method.hyperparameters,
    ...(method.targets === "none" ? {} : targetingHyperparameters),
    ...commonHyperparameters,
  };
}
