// What a merge starts from: the base (a Hugging Face model directory, or a
// directory of bare safetensors) and the adapters to fold in, each planned
// against it, with its weight and a name unique in the merge.
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { UserError } from "../errors.js";
import { loadModel, type LoadedModel } from "../models/load.js";
import { loadTensorsOnly } from "../models/tensors-only.js";
import type { PlanAdapter } from "../resolve/plan-types.js";
import { adapterFiles, loadPeftAdapters, type LoadedAdapter } from "./load-adapter.js";

export interface MergeAdapterInput {
  dir: string;
  weight: number;
}

export interface MergeInputs {
  model: LoadedModel;
  adapters: { label: string; loaded: LoadedAdapter; plan: PlanAdapter; weight: number }[];
}

/** Hints a bare-tensor base takes from the adapters: Conv1D layouts and embeddings. */
function tensorsOnlyHints(dirs: string[]): { conv1d: boolean; embeddings: Set<string> } {
  let conv1d = false;
  const embeddings = new Set<string>();
  for (const dir of dirs) {
    for (const entry of adapterFiles(dir, true)) {
      try {
        if ((JSON.parse(entry.configText) as { fan_in_fan_out?: unknown }).fan_in_fan_out === true) conv1d = true;
      } catch {
        // The adapter's own loading reports a bad config.
      }
      for (const key of entry.weights?.tensors.keys() ?? []) {
        const m = /^base_model\.model\.(.+)\.lora_embedding_[AB]$/.exec(key);
        if (m) embeddings.add(m[1]!);
      }
    }
  }
  return { conv1d, embeddings };
}

export function openMergeInputs(modelDir: string, inputs: MergeAdapterInput[]): MergeInputs {
  if (inputs.length === 0) throw new UserError("no adapter to merge: give --adapter DIR");
  const model = existsSync(join(modelDir, "config.json"))
    ? loadModel(modelDir)
    : loadTensorsOnly(modelDir, tensorsOnlyHints(inputs.map((i) => i.dir)));
  const used = new Set<string>();
  const adapters = inputs.map(({ dir, weight }) => {
    const [loaded] = loadPeftAdapters(dir, model.tree, { topOnly: true });
    let label = basename(dir.replace(/\/+$/, "")) || "adapter";
    for (let n = 2; used.has(label); n++) label = `${basename(dir)}-${n}`;
    used.add(label);
    return { label, loaded: loaded!, plan: { ...loaded!.adapter, name: label }, weight };
  });
  return { model, adapters };
}
