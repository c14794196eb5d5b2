// The adapter plan: a spec resolved against a model. Plain JSON, validated by
// plan-schema.ts, deterministic (the same spec and model give the same bytes).
import type { Hyperparameters } from "../methods/types.js";
import type { Source } from "./select.js";

export const PLAN_VERSION = 1;

export interface PlanTensor {
  /** The key in PEFT's adapter_model.safetensors (or the model's own name for base tensors). */
  key: string;
  shape: number[];
  dtype: "F32";
  init: string;
  trainable: boolean;
  /** Adds to PEFT's "all params" (a copy or a new parameter; not a buffer, not a base tensor). */
  parameter: boolean;
  saved: boolean;
}

export interface PlanModule {
  path: string;
  kind: string;
  role: string;
  layer: number | null;
  inFeatures: number;
  outFeatures: number;
  hyperparameters: Hyperparameters;
  sources: Record<string, Source>;
  scaling?: number;
  tensors: PlanTensor[];
  trainable: number;
}

export interface PlanAdapter {
  name: string;
  method: string;
  peftType: string | null;
  hyperparameters: Hyperparameters;
  modules: PlanModule[];
  /** Tensors not under one adapted module: shared projections, prompt encoders, trained base biases, modules_to_save. */
  tensors: PlanTensor[];
  trainable: number;
  /** Parameters the adapter adds to the model (PEFT's all params minus the base's). */
  added: number;
  /** PEFT's print_trainable_parameters line for the model with this adapter alone. */
  peftLine: string;
}

export interface MemoryEstimate {
  batch: number;
  seqLen: number;
  /** Bytes of each part; weights and states are float32 on the GPU. */
  frozenWeights: number;
  adapterParameters: number;
  gradients: number;
  optimizerStates: number;
  activations: number;
  total: number;
  /** How many transformer blocks keep activations (those from the lowest adapted one up). */
  layersWithActivations: number;
}

export interface Plan {
  plan: typeof PLAN_VERSION;
  /** sha256 of this plan's JSON without this field. */
  fingerprint: string;
  model: {
    family: string;
    modelType: string;
    fingerprint: string;
    parameters: number;
    dtype: string;
    layers: number;
    hiddenSize: number;
    vocabSize: number;
  };
  adapters: PlanAdapter[];
  totals: { trainable: number; all: number; peftLine: string };
  memory: MemoryEstimate;
}
