// A directory of safetensors with no config.json, seen as modules so that an
// adapter can be merged into it: merging is per tensor and needs no
// architecture. Every 2-D `<path>.weight` is a layer (Linear, or Conv1D when
// the adapter says fan_in_fan_out, or an embedding when the adapter treats it
// as one), every 1-D one a norm.
import { existsSync, statSync } from "node:fs";
import { CheckpointError, openCheckpoint } from "../../runtime/files/checkpoint.js";
import { SafetensorsError, elementCount, type Dtype } from "../../runtime/files/safetensors.js";
import { fingerprint, type LoadedModel } from "./load.js";
import { ModelError, type ArchitectureConfig, type ModuleKind, type ModuleNode, type TensorRef } from "./types.js";

export const TENSORS_ONLY_FAMILY = "tensors";

export interface TensorsOnlyOptions {
  /** Weights are stored (in, out), as GPT-2's Conv1D (the adapter's fan_in_fan_out). */
  conv1d: boolean;
  /** Module paths the adapter adapts as embeddings. */
  embeddings: ReadonlySet<string>;
}

// Names Hugging Face models give their token and position embeddings.
const EMBEDDING_NAMES = new Set(["embed_tokens", "wte", "wpe", "embed_in", "word_embeddings", "embed_positions"]);

export function loadTensorsOnly(dir: string, options: TensorsOnlyOptions): LoadedModel {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelError(`model directory ${dir} does not exist`);
  let checkpoint;
  try {
    checkpoint = openCheckpoint(dir);
  } catch (e) {
    if (e instanceof CheckpointError || e instanceof SafetensorsError) throw new ModelError(`${dir} has no config.json and ${e.message}`);
    throw e;
  }
  const modules: ModuleNode[] = [];
  const dtypes = new Map<Dtype, number>();
  let parameterCount = 0;
  for (const [name, info] of [...checkpoint.tensors].sort((a, b) => a[0].localeCompare(b[0]))) {
    parameterCount += elementCount(info.shape);
    dtypes.set(info.dtype, (dtypes.get(info.dtype) ?? 0) + elementCount(info.shape));
    if (!name.endsWith(".weight") || info.shape.length > 2 || info.shape.length === 0) continue;
    if (!["F32", "F16", "BF16"].includes(info.dtype)) continue;
    const path = name.slice(0, -".weight".length);
    const biasInfo = checkpoint.tensors.get(`${path}.bias`);
    const bias = biasInfo ? { name: biasInfo.name, shape: biasInfo.shape, dtype: biasInfo.dtype } : undefined;
    const weight = { name, shape: info.shape, dtype: info.dtype };
    if (info.shape.length === 1) {
      modules.push({ ...moduleAt(path, "norm", info.shape[0]!, info.shape[0]!, weight), ...(bias ? { bias } : {}), norm: "layer" });
      continue;
    }
    const [rows, cols] = info.shape as [number, number];
    const embedding = options.embeddings.has(path) || EMBEDDING_NAMES.has(path.split(".").pop()!);
    const kind = embedding ? "embedding" : options.conv1d ? "conv1d" : "linear";
    // Linear (out, in); Conv1D (in, out); Embedding (vocab, hidden): in = vocab.
    const [inFeatures, outFeatures] = kind === "linear" ? [cols, rows] : [rows, cols];
    modules.push({ ...moduleAt(path, kind, inFeatures, outFeatures, weight), ...(bias ? { bias } : {}) });
  }
  if (modules.length === 0) throw new ModelError(`${dir} has no config.json and no 2-D weights to merge into`);
  const config = blankConfig("unknown (no config.json)", modules);
  const dtype = [...dtypes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "F32";
  return {
    tree: { family: TENSORS_ONLY_FAMILY, dir, config, modules, parameterCount, dtype, fingerprint: fingerprint("", checkpoint), warnings: [] },
    checkpoint,
  };
}

/** A module of a model known only by tensor names: its block index and role read from the path, lm_head marked as the output embedding. */
export function moduleAt(path: string, kind: ModuleKind, inFeatures: number, outFeatures: number, weight: TensorRef): ModuleNode {
  const match = /\.(\d+)\./.exec(`.${path}.`);
  const layer = match ? Number(match[1]) : null;
  // The role is the path without its block index (model.layers.3.self_attn.q_proj → self_attn.q_proj).
  const role = layer === null ? path : path.slice(path.indexOf(`.${layer}.`) + `.${layer}.`.length);
  return { path, kind, role, layer, inFeatures, outFeatures, weight, ...(path.split(".").pop() === "lm_head" ? { outputEmbedding: true } : {}) };
}

/** The architecture numbers of a model with no config.json: none known but the block count its modules imply. */
export function blankConfig(modelType: string, modules: readonly ModuleNode[]): ArchitectureConfig {
  return {
    modelType, hiddenSize: 0, layers: Math.max(0, ...modules.map((m) => (m.layer ?? -1) + 1)), heads: 0, kvHeads: 0, headDim: 0,
    intermediateSize: 0, vocabSize: 0, maxPositions: 0, normEps: 0, ropeTheta: null, tiedEmbeddings: false, attentionBias: "none",
    mlpBias: false, activation: "unknown", blockPrefix: "", attentionName: "", bosTokenId: null, eosTokenId: null,
  };
}
