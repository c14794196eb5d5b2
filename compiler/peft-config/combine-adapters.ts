// Adapters combined into a new one (PEFT's add_weighted_adapter): the method
// builds the config and the tensors; the new config is planned against the
// model like any adapter, so it selects exactly the modules PEFT would give it.
import { UserError } from "../errors.js";
import { findMethod } from "../methods/registry.js";
import type { CombineType } from "../methods/types.js";
import type { ModelTree } from "../models/types.js";
import type { PlanAdapter } from "../resolve/plan-types.js";
import { peftJson } from "./emit.js";
import { planPeftConfig, type LoadedAdapter } from "./load-adapter.js";

export interface CombinedAdapter {
  configText: string;
  plan: PlanAdapter;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  warnings: string[];
}

export function combineAdapters(tree: ModelTree, sources: { loaded: LoadedAdapter; weight: number }[], type: CombineType, svdRank: number | undefined, name = "default"): CombinedAdapter {
  if (sources.length === 0) throw new UserError("nothing to combine: give --adapter DIR");
  const methods = [...new Set(sources.map((s) => s.loaded.adapter.method))];
  if (methods.length > 1) throw new UserError(`adapters of different methods (${methods.join(", ")}) cannot be combined`);
  const method = findMethod(methods[0]!)!;
  if (!method.combine) throw new UserError(`combining ${method.title} adapters is not supported (PEFT's add_weighted_adapter is for LoRA and IA3)`);
  const inputs = sources.map((s) => ({
    plan: s.loaded.adapter,
    config: JSON.parse(s.loaded.configText) as Record<string, unknown>,
    tensors: s.loaded.tensors,
    weight: s.weight,
  }));
  const { config, rank, warnings } = method.combine.config(inputs, type, svdRank);
  const configText = peftJson(method, config);
  const { adapter } = planPeftConfig(configText, "(combined)", name, tree);
  const tensors = method.combine.tensors(inputs, type, adapter, rank);
  const orphans = adapter.modules.filter((m) => !inputs.some((i) => i.plan.modules.some((o) => o.path === m.path)));
  if (orphans.length > 0) {
    // PEFT stops here ("No matching LoRAs found"); the combination is still well defined: no change.
    warnings.push(`${orphans.length} module${orphans.length === 1 ? "" : "s"} the combined targets select (e.g. ${orphans[0]!.path}) no adapter adapts: their factors are zero`);
  }
  return { configText, plan: adapter, tensors, warnings };
}
