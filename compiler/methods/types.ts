// What a method plugin declares. Everything the compiler knows about a method
// comes from its folder through this interface; nothing else names a method.
import type { Diagnostic } from "../../grammar/diagnostics.js";
import type { Span } from "../../grammar/ast.js";
import type { ArchitectureConfig, ModuleKind } from "../models/types.js";
import type { EmbeddingHook } from "../graph/embedding.js";
import type { InputHook } from "../graph/input-site.js";
import type { LinearHook } from "../graph/linear.js";
import type { MergeHook } from "../graph/merge.js";
import type { MixedLinearHook } from "../graph/mixed.js";

/**
 * A JSON Schema for one hyperparameter, with peftc's own annotations:
 * - `x-peft`: the field's name in PEFT's config (when PEFT has it)
 * - `x-peft-values`: our value → PEFT's value, where they are spelled differently
 * - `x-per-target`: may be set per target rule
 * - `x-peft-pattern`: the PEFT dict that carries per-target values (rank_pattern, alpha_pattern)
 * - `x-expects`: how to describe a valid value in an error, for composite types
 */
export interface HyperparameterSchema {
  type?: "integer" | "number" | "boolean" | "string" | "array" | "object" | ("integer" | "number" | "string" | "null" | "boolean" | "array")[];
  description: string;
  default?: unknown;
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: object;
  anyOf?: object[];
  properties?: Record<string, object>;
  required?: string[];
  additionalProperties?: boolean;
  minItems?: number;
  "x-peft"?: string;
  "x-peft-values"?: Record<string, unknown>;
  "x-per-target"?: boolean;
  "x-peft-pattern"?: string;
  "x-expects"?: string;
}

export type Hyperparameters = Record<string, unknown>;

/** Where the method may appear and what it attaches to. */
export type TargetPolicy =
  | "required" // adapts the modules its target rules select
  | "optional" // has a default target set when no rule is given
  | "none"; // attaches to the model's inputs (prompt methods): target rules are an error

export interface CrossCheckContext {
  /** The span of a hyperparameter as written, or the adapter's when it was defaulted. */
  spanOf(key: string): Span;
  /** Whether the key was written in the spec (rather than defaulted). */
  isSet(key: string): boolean;
  /** The adapter's targets when all are plain module names (PEFT's list form); otherwise undefined. */
  targetNames(): string[] | undefined;
}

export interface PeftCodec {
  /** PEFT's `peft_type`. */
  peftType: string;
  /** Every method-specific field PEFT saves, at PEFT's default, for a config built with no arguments. */
  defaults: Record<string, unknown>;
  /** PEFT fields that encode/decode handle themselves (so the importer counts them as read). */
  handles?: string[];
  /** PEFT fields that are Python floats, written 0.0 rather than 0. */
  floatFields?: string[];
  /** Our hyperparameters → PEFT's method fields (beyond the renames in the schema's x-peft). */
  encode?(hp: Hyperparameters, fields: Record<string, unknown>): void;
  /** PEFT's method fields → our hyperparameters (the inverse of encode). */
  decode?(config: Record<string, unknown>, hp: Hyperparameters, warn: (message: string) => void): void;
}

/** What a method sees of a module it adapts. */
export interface ModuleShape {
  path: string;
  kind: ModuleKind;
  inFeatures: number;
  outFeatures: number;
  hasBias: boolean;
}

/** One tensor a method adds: trained, or frozen beside the trained ones. */
export interface MethodTensor {
  /** Under the module: "lora_A.weight" (the key is base_model.model.<module>.<name>); for shared and prompt tensors, the full key. */
  name: string;
  shape: number[];
  /** How it starts, in words: "zeros", "kaiming_uniform(a=√5)", "normal(0, 0.02)". */
  init: string;
  trainable: boolean;
  /** Counted in PEFT's "all params" (buffers are not). */
  parameter: boolean;
  /** Written to adapter_model.safetensors under its key. */
  saved: boolean;
}

export interface Adaptation {
  /** Module kinds the method can adapt. */
  kinds: ModuleKind[];
  /**
   * Settings PEFT changes for a module before building it (OFT moves a block
   * size that does not divide the layer to the nearest divisor), with the warning to show.
   */
  adjust?(module: ModuleShape, hp: Hyperparameters): { set: Hyperparameters; warning: string } | undefined;
  /** The tensors added to one module, or why the module cannot take this method. */
  tensors(module: ModuleShape, hp: Hyperparameters): MethodTensor[] | string;
  /** The factor the update is multiplied by, where the method has one. */
  scaling?(hp: Hyperparameters): number;
  /** Tensors shared by all adapted modules (VeRA's projections), with full keys. */
  shared?(modules: ModuleShape[], hp: Hyperparameters): MethodTensor[];
}

export interface InputAttachment {
  /** The tensors of a method that attaches to the model's input (prompt methods), with full keys. */
  tensors(model: ArchitectureConfig, hp: Hyperparameters): MethodTensor[] | string;
  /** Extra tokens every sequence carries (virtual tokens), for the memory estimate. */
  virtualTokens(hp: Hyperparameters): number;
}

export interface MethodDefinition {
  /** The name used in specs: `adapter chat: lora { ... }`. */
  name: string;
  /** How people write it: "LoRA". */
  title: string;
  summary: string;
  targets: TargetPolicy;
  /** Method-specific hyperparameters (common ones are added by the registry). */
  hyperparameters: Record<string, HyperparameterSchema>;
  /** Rules between fields that a schema cannot say clearly. */
  crossCheck?(hp: Hyperparameters, context: CrossCheckContext): Diagnostic[];
  /**
   * Settles defaults that depend on what was written (OFT: writing r means no
   * block size), after the schema has filled the rest. Runs only on valid input.
   */
  normalize?(hp: Hyperparameters, context: CrossCheckContext): void;
  /** Mapping to Hugging Face PEFT's adapter_config.json; absent when PEFT has no such method. */
  peft?: PeftCodec;
  /** How the method adds tensors to the modules it targets. */
  adapt?: Adaptation;
  /** How a method without targets attaches to the model's input. */
  input?: InputAttachment;
  /** How the method trains and runs: the graph it adds to the layers it adapts. */
  graph?: {
    linear?: LinearHook;
    /** Embedding layers the method adapts (a linear hook alone leaves them unsupported). */
    embedding?: EmbeddingHook;
    /** Rows the method puts before every sequence (prompt methods: input.virtualTokens of them). */
    input?: InputHook;
    merge?: MergeHook;
    /** Several adapters of this method over the rows of one batch in one fused pass (else the lowering's generic fallback). */
    mixed?: MixedLinearHook;
  };
  /** How adapters of this method combine into one (peftc combine, merge --combine). */
  combine?: Combiner;
}

/** One adapter going into a combination, with its weight. */
export interface CombineSource {
  /** Planned against the model (or the tree its keys imply). */
  plan: import("../resolve/plan-types.js").PlanAdapter;
  /** adapter_config.json as saved. */
  config: Record<string, unknown>;
  /** Saved tensors by PEFT key. */
  tensors: ReadonlyMap<string, Float32Array>;
  weight: number;
}

export type CombineType = "cat" | "linear" | "svd";

/** How a method combines adapters into a new one, as PEFT's add_weighted_adapter. */
export interface Combiner {
  /** The new adapter's config and rank; throws a UserError when the sources cannot be combined this way. */
  config(sources: CombineSource[], type: CombineType, svdRank: number | undefined): { config: Record<string, unknown>; rank: number; warnings: string[] };
  /** The new adapter's tensors by PEFT key, for the modules its config selects. */
  tensors(sources: CombineSource[], type: CombineType, combined: import("../resolve/plan-types.js").PlanAdapter, rank: number): Map<string, { shape: number[]; data: Float32Array }>;
}
