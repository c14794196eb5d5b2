// A PEFT adapter directory (ours or one saved by Hugging Face PEFT) against a
// model: its config becomes a spec and a plan, and every saved tensor is
// matched to the plan by key and shape.
import { hasErrors } from "../../grammar/diagnostics.js";
import { AdapterFileError, findAdapters, readSavedTensor } from "../../runtime/peft/adapter-files.js";
import { UserError } from "../errors.js";
import type { ModelTree } from "../models/types.js";
import { buildPlan } from "../resolve/plan.js";
import type { Plan, PlanAdapter } from "../resolve/plan-types.js";
import { analyzeSpec } from "../spec/analyze.js";
import type { SpecIR } from "../spec/ir.js";
import { importPeftConfig } from "./import.js";

export interface LoadedAdapter {
  name: string;
  dir: string;
  ir: SpecIR;
  plan: Plan;
  adapter: PlanAdapter;
  /** Saved values by key; tensors the plan marks unsaved (or frozen buffers not saved) are absent. */
  tensors: Map<string, Float32Array>;
  warnings: string[];
}

/** Every adapter in a PEFT adapter directory, planned against the model and with its weights. */
export function loadPeftAdapters(dir: string, tree: ModelTree): LoadedAdapter[] {
  let found;
  try {
    found = findAdapters(dir);
  } catch (e) {
    if (e instanceof AdapterFileError) throw new UserError(e.message);
    throw e;
  }
  return found.map((entry) => {
    const imported = importPeftConfig(entry.configText, `${entry.dir}/adapter_config.json`, entry.name);
    const spec = analyzeSpec({ path: `${entry.dir}/adapter_config.json`, text: imported.spec });
    if (!spec.ir) throw new UserError(`${entry.dir}/adapter_config.json cannot be used: ${spec.diagnostics.map((d) => d.message).join("; ")}`);
    const planned = buildPlan(spec.ir, tree);
    if (!planned.plan || hasErrors(planned.diagnostics)) {
      throw new UserError(`${entry.dir}: the adapter does not fit this model: ${planned.diagnostics.map((d) => d.message).join("; ")}`);
    }
    const adapter = planned.plan.adapters[0]!;
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
    return { name: entry.name, dir: entry.dir, ir: spec.ir, plan: planned.plan, adapter, tensors, warnings: imported.warnings };
  });
}
