// Hyperparameters every method accepts, and those every targeting method accepts.
import type { HyperparameterSchema } from "./types.js";

export const TASK_TYPES = [
  "CAUSAL_LM",
  "SEQ_CLS",
  "SEQ_2_SEQ_LM",
  "TOKEN_CLS",
  "QUESTION_ANS",
  "FEATURE_EXTRACTION",
] as const;

export const commonHyperparameters: Record<string, HyperparameterSchema> = {
  task_type: {
    description: "the task head the adapter serves, as PEFT's task_type (none: a bare base model)",
    enum: [...TASK_TYPES, "none"],
    default: "CAUSAL_LM",
    "x-peft": "task_type",
    "x-peft-values": { ...Object.fromEntries(TASK_TYPES.map((t) => [t, t])), none: null },
  },
  inference_mode: {
    description: "PEFT's inference_mode flag as saved (PEFT's save_pretrained writes true)",
    type: "boolean",
    default: true,
    "x-peft": "inference_mode",
  },
  modules_to_save: {
    description: "modules trained in full beside the adapter and saved under their own names (e.g. a classifier head)",
    type: "array",
    items: { type: "string", minLength: 1 },
    default: [],
    "x-peft": "modules_to_save",
  },
};

export const targetingHyperparameters: Record<string, HyperparameterSchema> = {
  layers: {
    description: "adapt only these layer indices (PEFT's layers_to_transform); ranges like [0..3, 8] are allowed",
    type: "array",
    items: { type: "integer", minimum: 0 },
    default: [],
    "x-peft": "layers_to_transform",
  },
  layers_pattern: {
    description: "the name of the module list whose index `layers` refers to (PEFT's layers_pattern), e.g. \"layers\" or \"h\"",
    type: ["string", "null"],
    default: null,
    "x-peft": "layers_pattern",
  },
};
