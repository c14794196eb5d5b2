// IA3 adapters combined into one, as PEFT's IA3 add_weighted_adapter
// (tuners/ia3/model.py): the new vector of each module is Σ wᵢ·lᵢ over the
// adapters that adapt it (zero where none does), and the new config is the
// first adapter's with target_modules and feedforward_modules united (sets
// united, regexes joined as "(a)|(b)"). PEFT has no combination type for IA3:
// a weighted sum is a linear combination, so --combine linear asks for it.
import { UserError } from "../../errors.js";
import type { CombineSource, Combiner } from "../types.js";

function united(sources: CombineSource[], field: "target_modules" | "feedforward_modules"): string | string[] | null {
  const values = sources.map((s) => s.config[field] ?? null);
  if (values.every((v) => v === null)) return null;
  if (values.every((v) => typeof v === "string")) return (values as string[]).map((v) => `(${v})`).join("|");
  if (values.every((v) => Array.isArray(v))) return [...new Set((values as string[][]).flat())].sort();
  throw new UserError(`the adapters' ${field} mix a regex and lists: PEFT cannot combine them ("All adapter configs should have the same type for target and feedforward modules"), nor can peftc`);
}

export const ia3Combiner: Combiner = {
  config(sources, type) {
    if (sources.length > 1 && type !== "linear") {
      throw new UserError(`IA3 adapters combine one way, as PEFT's IA3 add_weighted_adapter: a weighted sum of their vectors (--combine linear), not ${type}`);
    }
    const warnings = sources.length === 1 && type !== "linear" ? [`one adapter: its vector scaled by its weight, not combined by ${type}`] : [];
    const config = { ...sources[0]!.config, target_modules: united(sources, "target_modules"), feedforward_modules: united(sources, "feedforward_modules") };
    return { config, rank: 0, warnings };
  },

  tensors(sources, _type, combined) {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const module of combined.modules) {
      const key = `base_model.model.${module.path}.ia3_l`;
      const planned = module.tensors.find((t) => t.key === key);
      if (!planned) throw new Error(`ia3 combine: ${module.path} plans no ia3_l`);
      const data = new Float32Array(planned.shape.reduce((a, b) => a * b, 1));
      for (const s of sources) {
        const own = s.plan.modules.find((m) => m.path === module.path);
        if (!own) continue;
        const shape = own.tensors.find((t) => t.key === key)?.shape ?? [];
        if (shape.join() !== planned.shape.join()) {
          throw new UserError(`${module.path} is scaled on its ${planned.shape[0] === 1 ? "input" : "output"} in the combination but on its ${shape[0] === 1 ? "input" : "output"} in adapter '${s.plan.name}': IA3 vectors of different sides cannot be added (mark it feed-forward in all or none)`);
        }
        const l = s.tensors.get(key)!;
        for (let i = 0; i < data.length; i++) data[i]! += s.weight * l[i]!;
      }
      out.set(key, { shape: planned.shape, data });
    }
    return out;
  },
};
