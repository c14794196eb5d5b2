// The modules a set of adapter files imply, for combining adapters without
// their base model: each adapted module's shape comes from its saved LoRA
// factors (A: r × in, B: out × r), its kind from the keys and fan_in_fan_out.
// An IA3 vector gives one side only ((out, 1), or (1, in) for a feed-forward
// module); the other stays 1 unless another adapter's vector tells it.
import type { AdapterOnDisk } from "../../runtime/peft/adapter-files.js";
import { UserError } from "../errors.js";
import type { LoadedModel } from "./load.js";
import { blankConfig, moduleAt, TENSORS_ONLY_FAMILY } from "./tensors-only.js";
import type { ModuleKind, ModuleNode } from "./types.js";

export function treeFromAdapters(entries: AdapterOnDisk[]): LoadedModel["tree"] {
  const modules = new Map<string, ModuleNode>();
  for (const entry of entries) {
    let conv1d = false;
    try {
      conv1d = (JSON.parse(entry.configText) as { fan_in_fan_out?: unknown }).fan_in_fan_out === true;
    } catch {
      throw new UserError(`${entry.dir}/adapter_config.json is not valid JSON`);
    }
    const tensors = entry.weights?.tensors;
    if (!tensors) throw new UserError(`${entry.dir} has no adapter_model.safetensors`);
    for (const [key, info] of tensors) {
      const ia3 = /^base_model\.model\.(.+)\.ia3_l$/.exec(key);
      if (ia3) {
        vectorSide(modules, ia3[1]!, info.shape, conv1d);
        continue;
      }
      const m = /^base_model\.model\.(.+)\.(lora_A\.weight|lora_embedding_A)$/.exec(key);
      if (!m) continue;
      const path = m[1]!;
      const embedding = m[2] === "lora_embedding_A";
      const B = tensors.get(`base_model.model.${path}.${embedding ? "lora_embedding_B" : "lora_B.weight"}`);
      if (!B) throw new UserError(`${entry.dir}: '${key}' has no matching B factor`);
      const inFeatures = info.shape[1]!;
      const outFeatures = B.shape[0]!;
      const existing = modules.get(path);
      if (existing && (existing.inFeatures !== inFeatures || existing.outFeatures !== outFeatures)) {
        throw new UserError(`${path} is ${existing.outFeatures}×${existing.inFeatures} in one adapter and ${outFeatures}×${inFeatures} in ${entry.dir}: were they trained on different models?`);
      }
      const kind = embedding ? "embedding" : conv1d ? "conv1d" : "linear";
      modules.set(path, impliedModule(path, kind, inFeatures, outFeatures));
    }
  }
  const config = blankConfig("unknown (adapters only)", [...modules.values()]);
  return {
    family: TENSORS_ONLY_FAMILY, dir: entries[0]?.dir ?? "", config, modules: [...modules.values()].sort((a, b) => a.path.localeCompare(b.path)),
    parameterCount: [...modules.values()].reduce((n, m) => n + m.inFeatures * m.outFeatures, 0), dtype: "F32", fingerprint: `sha256:${"0".repeat(64)}`, warnings: [],
  };
}

/** Records the side an IA3 vector of this shape gives (its other side, if still unknown, stays 1). */
function vectorSide(modules: Map<string, ModuleNode>, path: string, shape: number[], conv1d: boolean): void {
  const feedforward = shape[0] === 1 && (shape[1] ?? 1) > 1;
  const existing = modules.get(path);
  const inFeatures = feedforward ? shape[1]! : existing?.inFeatures ?? 1;
  const outFeatures = feedforward ? existing?.outFeatures ?? 1 : shape[0]!;
  modules.set(path, impliedModule(path, conv1d ? "conv1d" : "linear", inFeatures, outFeatures));
}

/** The module, with the weight (F32, its layout by kind) that the adapter's shapes imply. */
function impliedModule(path: string, kind: ModuleKind, inFeatures: number, outFeatures: number): ModuleNode {
  const shape = kind === "linear" ? [outFeatures, inFeatures] : [inFeatures, outFeatures];
  return moduleAt(path, kind, inFeatures, outFeatures, { name: `${path}.weight`, shape, dtype: "F32" });
}
