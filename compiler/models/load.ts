// A Hugging Face model directory as a ModelTree: config.json read by its
// family, the module tree checked tensor by tensor against the checkpoint
// headers. No weight is read.
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { openCheckpoint, CheckpointError, type Checkpoint } from "../../runtime/files/checkpoint.js";
import { SafetensorsError, elementCount, type Dtype } from "../../runtime/files/safetensors.js";
import { familyForModelType, MODEL_FAMILIES } from "./families.js";
import type { ExpectedTensor, ModelFamily } from "./family.js";
import { ModelError, type ModelTree, type ModuleNode, type TensorRef } from "./types.js";

export interface LoadedModel {
  tree: ModelTree;
  checkpoint: Checkpoint;
}

/** Loads and checks a model directory. `family` is what the spec says (or "auto"). */
export function loadModel(dir: string, family = "auto"): LoadedModel {
  if (!existsSync(dir)) throw new ModelError(`model directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new ModelError(`${dir} is not a directory (a model is a Hugging Face model directory)`);
  const configPath = join(dir, "config.json");
  if (!existsSync(configPath)) throw new ModelError(`${dir} has no config.json: it is not a Hugging Face model directory`);
  const configText = readFileSync(configPath, "utf8");
  let json: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(configText);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
    json = parsed as Record<string, unknown>;
  } catch (e) {
    throw new ModelError(`${configPath}: not valid JSON (${(e as Error).message})`);
  }
  const modelFamily = chooseFamily(json, configPath, family);
  let config;
  try {
    config = modelFamily.readConfig(json, configPath);
  } catch (e) {
    throw new ModelError((e as Error).message);
  }
  let checkpoint: Checkpoint;
  try {
    checkpoint = openCheckpoint(dir);
  } catch (e) {
    if (e instanceof CheckpointError || e instanceof SafetensorsError) throw new ModelError(e.message);
    throw e;
  }
  const names = new Set(checkpoint.tensors.keys());
  const expected = modelFamily.expectedModules(config, names);
  const problems: string[] = [];
  const used = new Set<string>();
  const modules: ModuleNode[] = [];
  const dtypes = new Map<Dtype, number>();
  let parameterCount = 0;

  const checkTensor = (expectedTensor: ExpectedTensor, countsAsParameter: boolean): TensorRef | undefined => {
    const info = checkpoint.tensors.get(expectedTensor.name);
    if (!info) return undefined;
    used.add(info.name);
    if (info.shape.join(",") !== expectedTensor.shape.join(",")) {
      problems.push(`'${info.name}' has shape [${info.shape.join(", ")}] but config.json implies [${expectedTensor.shape.join(", ")}]`);
    }
    if (!["F32", "F16", "BF16"].includes(info.dtype)) problems.push(`'${info.name}' is ${info.dtype}; peftc reads F32, F16 and BF16 weights`);
    dtypes.set(info.dtype, (dtypes.get(info.dtype) ?? 0) + elementCount(info.shape));
    if (countsAsParameter) parameterCount += elementCount(info.shape);
    return { name: info.name, shape: info.shape, dtype: info.dtype };
  };
  const missing = (t: ExpectedTensor) => problems.push(`'${t.name}' is missing (expected shape [${t.shape.join(", ")}])`);

  for (const m of expected) {
    // A tied weight stored twice is still one parameter.
    let weight = checkTensor(m.weight, !m.tiedTo);
    if (!weight && m.tiedTo) {
      const owner = expected.find((e) => e.path === m.tiedTo)!.weight;
      const info = checkpoint.tensors.get(owner.name);
      if (info) weight = { name: info.name, shape: info.shape, dtype: info.dtype };
    }
    if (!weight) {
      missing(m.weight);
      continue;
    }
    const bias = m.bias ? checkTensor(m.bias, true) : undefined;
    if (m.bias && !bias) missing(m.bias);
    modules.push({
      path: m.path,
      kind: m.kind,
      role: m.role,
      layer: m.layer,
      inFeatures: m.inFeatures,
      outFeatures: m.outFeatures,
      weight,
      ...(bias ? { bias } : {}),
      ...(m.tiedTo ? { tiedTo: m.tiedTo } : {}),
      ...(m.outputEmbedding ? { outputEmbedding: true } : {}),
      ...(m.norm ? { norm: m.norm } : {}),
    });
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 8).map((p) => `  ${p}`).join("\n");
    const more = problems.length > 8 ? `\n  ... and ${problems.length - 8} more` : "";
    throw new ModelError(`${dir} does not match its config.json (${config.modelType}):\n${shown}${more}`);
  }
  const warnings: string[] = [];
  const unexpected = [...names].filter((n) => !used.has(n) && !modelFamily.ignorable.some((r) => r.test(n)));
  if (unexpected.length > 0) {
    warnings.push(`${unexpected.length} tensor${unexpected.length === 1 ? "" : "s"} in the checkpoint belong to no module and are ignored: ${unexpected.slice(0, 3).join(", ")}${unexpected.length > 3 ? ", ..." : ""}`);
  }
  const dtype = [...dtypes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "F32";
  const tree: ModelTree = {
    family: modelFamily.name,
    dir,
    config,
    modules,
    parameterCount,
    dtype,
    fingerprint: fingerprint(configText, checkpoint),
    warnings,
  };
  return { tree, checkpoint };
}

function chooseFamily(json: Record<string, unknown>, configPath: string, requested: string): ModelFamily {
  const modelType = json.model_type;
  const supported = MODEL_FAMILIES.flatMap((f) => f.modelTypes);
  if (typeof modelType !== "string") throw new ModelError(`${configPath}: no model_type (supported: ${supported.join(", ")})`);
  const family = familyForModelType(modelType);
  if (!family) throw new ModelError(`${configPath}: model_type '${modelType}' is not supported (supported: ${supported.join(", ")})`);
  if (requested !== "auto" && requested !== family.name && !family.modelTypes.includes(requested)) {
    throw new ModelError(`the spec says 'model ${requested}' but ${configPath} is a ${modelType} model (family ${family.name})`);
  }
  return family;
}

/**
 * Identifies a model cheaply: config.json, every tensor header, and a few bytes
 * sampled from each tensor's data (its start, middle and end), so that two
 * checkpoints of the same architecture with different weights differ, without
 * reading gigabytes.
 */
export function fingerprint(configText: string, checkpoint: Checkpoint): string {
  const hash = createHash("sha256");
  hash.update(configText ? JSON.stringify(JSON.parse(configText)) : "");
  const fds = new Map<string, number>();
  const sample = Buffer.alloc(16);
  try {
    for (const name of [...checkpoint.tensors.keys()].sort()) {
      const t = checkpoint.tensors.get(name)!;
      hash.update(`\n${name}:${t.dtype}:${t.shape.join("x")}`);
      let fd = fds.get(t.file);
      if (fd === undefined) {
        fd = openSync(t.file, "r");
        fds.set(t.file, fd);
      }
      for (const at of [0, Math.floor(t.byteLength / 2), t.byteLength - 16]) {
        if (at < 0 || t.byteLength === 0) continue;
        const n = readSync(fd, sample, 0, Math.min(16, t.byteLength - at), t.offset + at);
        hash.update(sample.subarray(0, n));
      }
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
  return `sha256:${hash.digest("hex")}`;
}
