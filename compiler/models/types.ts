// A model as the compiler sees it: the Hugging Face module tree with exact
// module names, kinds and shapes, and the checkpoint tensors behind them.
import type { Dtype } from "../../runtime/files/safetensors.js";

export type ModuleKind = "linear" | "conv1d" | "embedding" | "norm";

export interface TensorRef {
  /** The tensor's name in the checkpoint. */
  name: string;
  shape: number[];
  dtype: Dtype;
}

export interface ModuleNode {
  /** The module's name in the Hugging Face model, as PEFT sees it: model.layers.0.self_attn.q_proj */
  path: string;
  kind: ModuleKind;
  /** The path without its block index: self_attn.q_proj, embed_tokens, lm_head. */
  role: string;
  /** The index of the repeated block it lives in, if any. */
  layer: number | null;
  /** Linear and Conv1D: features in and out (Conv1D stores its weight as (in, out)). */
  inFeatures: number;
  outFeatures: number;
  weight: TensorRef;
  bias?: TensorRef;
  /** This module's weight is another module's (tied embeddings). */
  tiedTo?: string;
  /** The language-model head: all_linear leaves it out, as PEFT's all-linear does. */
  outputEmbedding?: boolean;
  norm?: "rms" | "layer";
}

/** The numbers of an architecture that the compiler and runtime need. */
export interface ArchitectureConfig {
  modelType: string;
  hiddenSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositions: number;
  normEps: number;
  ropeTheta: number | null;
  tiedEmbeddings: boolean;
  /** Which attention projections have biases: Qwen2 q/k/v, GPT-2 and Llama with attention_bias all. */
  attentionBias: "none" | "qkv" | "all";
  mlpBias: boolean;
  activation: string;
  /** Where block i's attention module lives: `${blockPrefix}.${i}.${attentionName}`. */
  blockPrefix: string;
  attentionName: string;
  bosTokenId: number | null;
  eosTokenId: number | null;
}

export interface ModelTree {
  family: string;
  dir: string;
  config: ArchitectureConfig;
  modules: ModuleNode[];
  /** Every parameter tensor (tied ones once), for PEFT's "all params". */
  parameterCount: number;
  /** The dtype most of the weights are stored in. */
  dtype: Dtype;
  /** sha256 over config.json and the tensor headers (names, dtypes, shapes). */
  fingerprint: string;
  warnings: string[];
}

export class ModelError extends Error {}
