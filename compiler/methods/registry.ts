// Every method peftc knows: one line each. A method's knowledge lives in its folder.
import { commonHyperparameters, targetingHyperparameters } from "./common.js";
import { lora } from "./lora/index.js";
import type { HyperparameterSchema, MethodDefinition } from "./types.js";

const METHODS: MethodDefinition[] = [
  lora,
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
