// The model families peftc knows: one line each. A family's knowledge (config,
// module tree, forward) lives in its folder.
import type { ModelFamily } from "./family.js";
import { gpt2Family } from "./gpt2/family.js";
import { llamaFamily } from "./llama/family.js";

export const MODEL_FAMILIES: ModelFamily[] = [
  llamaFamily,
  gpt2Family,
];

/** Names a spec may write after `model`: families, their model types, and `auto`. */
export function familyNames(): string[] {
  return ["auto", ...new Set(MODEL_FAMILIES.flatMap((f) => [f.name, ...f.modelTypes]))];
}

export function familyForModelType(modelType: string): ModelFamily | undefined {
  return MODEL_FAMILIES.find((f) => f.modelTypes.includes(modelType));
}
