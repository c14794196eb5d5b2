// peftc merge: adapters folded into a base model on the GPU, written as a
// Hugging Face model directory in the base's dtypes (and shards).
// peftc combine: adapters combined into a new PEFT adapter directory.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { claimDirectoryOutput, type OutputInput } from "../../runtime/files/outputs.js";
import { UserError } from "../../compiler/errors.js";
import { lowerMerge } from "../../compiler/graph/merge.js";
import type { CombineType } from "../../compiler/methods/types.js";
import { treeFromAdapters } from "../../compiler/models/adapter-implied.js";
import { loadModel } from "../../compiler/models/load.js";
import { ModelError } from "../../compiler/models/types.js";
import { combineAdapters } from "../../compiler/peft-config/combine-adapters.js";
import { adapterFiles, loadPeftAdapters } from "../../compiler/peft-config/load-adapter.js";
import { openMergeInputs } from "../../compiler/peft-config/merge-inputs.js";
import { readFloat32 } from "../../runtime/files/checkpoint.js";
import { acquireRuntime } from "../../runtime/gpu/index.js";
import { mergeWeights, UnsafeMerge } from "../../runtime/merge/merge-weights.js";
import { writeMergedModel } from "../../runtime/merge/write-model.js";
import { writeAdapters } from "../../runtime/peft/adapter-files.js";
import type { Io } from "../io.js";

export interface MergeOptions {
  model: string;
  adapter: string[];
  weight?: number[];
  combine?: CombineType;
  svdRank?: number;
  output: string;
  json?: boolean;
}

function weightsFor(adapters: string[], weights: number[] | undefined): number[] {
  if (!weights || weights.length === 0) return adapters.map(() => 1);
  if (weights.length !== adapters.length) throw new UserError(`${adapters.length} --adapter but ${weights.length} --weight: give one weight per adapter, or none`);
  return weights;
}

function adapterInputs(dirs: string[]): OutputInput[] {
  return dirs.map((path, i) => ({ path, what: dirs.length === 1 ? "the adapter" : `adapter ${i + 1}` }));
}

export async function mergeCommand(io: Io, options: MergeOptions): Promise<number> {
  try {
    const modelDir = resolve(options.model);
    const out = claimDirectoryOutput(options.output, "model", [{ path: modelDir, what: "the base model" }, ...adapterInputs(options.adapter)]);
    const weights = weightsFor(options.adapter, options.weight);
    const inputs = openMergeInputs(modelDir, options.adapter.map((dir, i) => ({ dir: resolve(dir), weight: weights[i]! })));
    for (const a of inputs.adapters) for (const w of a.loaded.warnings) io.err(`warning: ${a.label}: ${w}`);
    let adapters = inputs.adapters.map((a) => ({ adapter: a.plan, scale: a.weight }));
    let saved = (key: string, origin?: string) => inputs.adapters.find((a) => a.label === origin)?.loaded.tensors.get(key);
    if (options.combine) {
      const combined = combineAdapters(inputs.model.tree, inputs.adapters.map((a) => ({ loaded: a.loaded, weight: a.weight })), options.combine, options.svdRank, "combined");
      for (const w of combined.warnings) io.err(`note: ${w}`);
      adapters = [{ adapter: combined.plan, scale: 1 }];
      saved = (key) => combined.tensors.get(key)?.data;
    } else if (options.svdRank !== undefined) {
      throw new UserError("--svd-rank goes with --combine svd");
    }
    const runtime = await acquireRuntime();
    const { graph, wgsl, merged } = lowerMerge({ tree: inputs.model.tree, adapters, device: runtime.profile });
    const values = await mergeWeights(runtime, graph, wgsl, merged, {
      weight: (name) => readFloat32(inputs.model.checkpoint, name),
      saved,
      seed: 0,
    });
    const written = writeMergedModel(inputs.model.checkpoint, values, out, (file) => io.err(`wrote ${file}`));
    const changed = merged.filter((m) => m.changedBy.length > 0);
    if (options.json) {
      io.out(JSON.stringify({ output: out, files: written.files, merged_tensors: changed.map((m) => m.tensor), adapters: inputs.adapters.map((a) => ({ dir: a.loaded.dir, weight: a.weight })) }, null, 2));
    } else {
      io.out(`merged ${inputs.adapters.length} adapter${inputs.adapters.length === 1 ? "" : "s"}${options.combine ? ` (combined by ${options.combine})` : ""} into ${changed.length} tensors of ${modelDir}`);
      io.out(`wrote ${out} (${written.files.length} files)`);
    }
    return 0;
  } catch (e) {
    if (e instanceof ModelError || e instanceof UnsafeMerge) throw new UserError(e.message);
    throw e;
  }
}

export interface CombineOptions {
  adapter: string[];
  weight?: number[];
  combine: CombineType;
  svdRank?: number;
  model?: string;
  output: string;
  json?: boolean;
}

export function combineCommand(io: Io, options: CombineOptions): number {
  try {
    const dirs = options.adapter.map((d) => resolve(d));
    const out = claimDirectoryOutput(options.output, "adapter", [...adapterInputs(options.adapter), ...(options.model ? [{ path: options.model, what: "the model" }] : [])]);
    const weights = weightsFor(dirs, options.weight);
    let tree;
    if (options.model) tree = loadModel(resolve(options.model)).tree;
    else tree = treeFromAdapters(dirs.flatMap((d) => adapterFiles(d, true)));
    const sources = dirs.map((dir, i) => {
      if (!existsSync(dir)) throw new UserError(`${dir}: no such adapter directory`);
      const [loaded] = loadPeftAdapters(dir, tree, { topOnly: true });
      return { loaded: loaded!, weight: weights[i]! };
    });
    const combined = combineAdapters(tree, sources, options.combine, options.svdRank);
    for (const w of combined.warnings) io.err(`note: ${w}`);
    writeAdapters(out, [{ name: "default", config: combined.configText, tensors: combined.tensors }]);
    // Rank-free methods (IA3) have no r.
    const rank = (JSON.parse(combined.configText) as { r?: number }).r ?? null;
    if (options.json) {
      io.out(JSON.stringify({ output: out, rank, modules: combined.plan.modules.length }, null, 2));
    } else {
      io.out(`combined ${sources.length} adapters by ${options.combine} into ${out}: ${rank === null ? "" : `rank ${rank}, `}${combined.plan.modules.length} modules`);
    }
    return 0;
  } catch (e) {
    if (e instanceof ModelError) throw new UserError(e.message);
    throw e;
  }
}
