// The model families peftc knows, by the name a spec uses and the Hugging Face
// model_type values each one reads.
export interface FamilyName {
  name: string;
  modelTypes: string[];
}

export const MODEL_FAMILIES: FamilyName[] = [
  { name: "llama", modelTypes: ["llama", "mistral", "qwen2"] },
  { name: "gpt2", modelTypes: ["gpt2"] },
];

/** Names a spec may write after `model`: families, their model types, and `auto`. */
export function familyNames(): string[] {
  return ["auto", ...new Set(MODEL_FAMILIES.flatMap((f) => [f.name, ...f.modelTypes]))];
}
