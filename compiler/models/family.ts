// What a model family declares: how to read its config.json, the module
// tree (with checkpoint tensor names and shapes) it expects, and its forward.
import type { FamilyForward } from "../graph/family-forward.js";
import type { ArchitectureConfig, ModuleKind } from "./types.js";

export interface ExpectedTensor {
  name: string;
  shape: number[];
}

export interface ExpectedModule {
  path: string;
  kind: ModuleKind;
  role: string;
  layer: number | null;
  inFeatures: number;
  outFeatures: number;
  weight: ExpectedTensor;
  bias?: ExpectedTensor;
  /** The weight may be absent from the checkpoint because it is this module's weight. */
  tiedTo?: string;
  outputEmbedding?: boolean;
  norm?: "rms" | "layer";
}

export interface ModelFamily {
  name: string;
  /** Hugging Face model_type values this family reads. */
  modelTypes: string[];
  readConfig(json: Record<string, unknown>, file: string): ArchitectureConfig;
  /** The modules, given the checkpoint's tensor names (checkpoints differ in prefixes). */
  expectedModules(config: ArchitectureConfig, names: ReadonlySet<string>): ExpectedModule[];
  /** Tensors a checkpoint may hold that are not parameters (buffers). */
  ignorable: RegExp[];
  /**
   * Floats one token keeps for the backward pass: per transformer block and at
   * the head (final norm, logits and their gradient), for a sequence of seqLen.
   */
  activationFloats(config: ArchitectureConfig, seqLen: number): { perLayer: number; head: number };
  /** The family's forward, written with the lowering's layer toolkit. */
  forward: FamilyForward;
}

/** Reads a config.json number, with a default or a clear error. */
export function configNumber(json: Record<string, unknown>, file: string, key: string, fallback?: number): number {
  const value = json[key];
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw new Error(`${file}: '${key}' is missing`);
  }
  if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`${file}: '${key}' is ${JSON.stringify(value)}, not a number`);
  return value;
}

export function positiveInteger(json: Record<string, unknown>, file: string, key: string, fallback?: number): number {
  const value = configNumber(json, file, key, fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${file}: '${key}' is ${value}, not a positive integer`);
  return value;
}

export function tokenId(json: Record<string, unknown>, key: string): number | null {
  const value = json[key];
  if (Array.isArray(value)) return typeof value[0] === "number" ? value[0] : null;
  return typeof value === "number" ? value : null;
}
