// A PEFT adapter directory (ours or one saved by Hugging Face PEFT) against a
// model: its config becomes a spec and a plan, and every saved tensor is
// matched to the plan by key and shape.
import { hasErrors } from "../../grammar/diagnostics.js";
import { AdapterFileError, findAdapters, readSavedTensor, type AdapterOnDisk } from "../../runtime/peft/adapter-files.js";
import { UserError } from "../errors.js";
import type { ModelTree } from "../models/types.js";
import { buildPlan } from "../resolve/plan.js";
import type { Plan, PlanAdapter } from "../resolve/plan-types.js";
import { analyzeSpec } from "../spec/analyze.js";
import type { SpecIR } from "../spec/ir.js";
import { importPeftConfig } from "./import.js";
import { join } from "node:path";

export interface LoadedAdapter {
  name: string;
  dir: string;
  ir: SpecIR;
  plan: Plan;
  adapter: PlanAdapter;
  /** adapter_config.json as saved. */
  configText: string;
  /** Saved values by key; tensors the plan marks unsaved (or frozen buffers not saved) are absent. */
  tensors: Map<string, Float32Array>;
  warnings: string[];
}

/**
 * The adapter files of a directory (PEFT's layout: the default adapter at the
 * top, others in subfolders), or with `topOnly` the one at its top; a file
 * problem is the user's error.
 */
export function adapterFiles(dir: string, topOnly: boolean): AdapterOnDisk[] {
  let found;
  try {
    found = findAdapters(dir);
  } catch (e) {
    if (e instanceof AdapterFileError) throw new UserError(e.message);
    throw e;
  }
  if (!topOnly) return found;
  const top = found.filter((f) => f.dir === dir);
  if (top.length === 0) {
    throw new UserError(`${dir} holds adapters only in subfolders (${found.map((f) => f.name).join(", ")}): name one, e.g. ${join(dir, found[0]!.name)}`);
  }
  return top;
}

/**
 * Every adapter in a PEFT adapter directory (or, with `topOnly`, the one at its
 * top), planned against the model and with its weights.
 */
export function loadPeftAdapters(dir: string, tree: ModelTree, options: { topOnly?: boolean } = {}): LoadedAdapter[] {
  const found = adapterFiles(dir, options.topOnly ?? false);
  return found.map((entry) => {
    const { ir, plan, adapter, warnings } = planPeftConfig(entry.configText, entry.dir, entry.name, tree);
    const expected = new Map([...adapter.modules.flatMap((m) => m.tensors), ...adapter.tensors].filter((t) => t.saved).map((t) => [t.key, t]));
    const tensors = new Map<string, Float32Array>();
    if (!entry.weights) throw new UserError(`${entry.dir} has no adapter_model.safetensors`);
    for (const [key, info] of entry.weights.tensors) {
      const want = expected.get(key);
      if (!want) {
        throw new UserError(`${entry.weights.path}: tensor '${key}' maps to no module of the adapter on this model`,
          `the adapter's config targets ${adapter.modules.length} modules; was it saved for another model?`);
      }
      if (info.shape.join(",") !== want.shape.join(",")) {
        throw new UserError(`${entry.weights.path}: tensor '${key}' has shape [${info.shape.join(", ")}] but the module needs [${want.shape.join(", ")}]`);
      }
      tensors.set(key, readSavedTensor(entry.weights, key));
    }
    // A saved copy of a base weight (PEFT's save_embedding_layers) is optional: the model has it.
    const missing = [...expected.values()].filter((t) => !tensors.has(t.key) && !t.key.includes(".base_layer."));
    if (missing.length > 0) {
      throw new UserError(`${entry.weights.path} lacks ${missing.length} tensor${missing.length === 1 ? "" : "s"} the adapter needs, e.g. '${missing[0]!.key}'`);
    }
    return { name: entry.name, dir: entry.dir, ir, plan, adapter, configText: entry.configText, tensors, warnings };
  });
}

/** A PEFT adapter_config.json's text planned against a model: the spec it means, and its plan. */
export function planPeftConfig(configText: string, dir: string, name: string, tree: ModelTree): { ir: SpecIR; plan: Plan; adapter: PlanAdapter; warnings: string[] } {
  const imported = importPeftConfig(configText, `${dir}/adapter_config.json`, name);
  const spec = analyzeSpec({ path: `${dir}/adapter_config.json`, text: imported.spec });
  if (!spec.ir) throw new UserError(`${dir}/adapter_config.json cannot be used: ${spec.diagnostics.map((d) => d.message).join("; ")}`);
  const planned = buildPlan(spec.ir, tree);
  if (!planned.plan || hasErrors(planned.diagnostics)) {
    throw new UserError(`${dir}: the adapter does not fit this model: ${planned.diagnostics.map((d) => d.message).join("; ")}`);
  }
  return { ir: spec.ir, plan: planned.plan, adapter: planned.plan.adapters[0]!, warnings: imported.warnings };
}
