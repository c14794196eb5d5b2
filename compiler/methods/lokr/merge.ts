// LoKr merged into the layer it adapts, as PEFT's LycorisLayer.merge / unmerge:
//   W ← W ± w·s·kron(w1, w2)
// with w1 = w1_a·w1_b and w2 = w2_a·w2_b where decomposed, s = alpha/r and w the
// adapter's merge weight. The factors are small; the Kronecker product is
// formed element by element inside the one pass over W.
import { UserError } from "../../errors.js";
import type { MergeContext, MergeHook, MergeSite } from "../../graph/merge.js";
import type { PlanModule } from "../../resolve/plan-types.js";
import { computeFactors, declareTensors, layoutOf } from "./factors.js";
import { lokrKronAdd } from "./kernels.js";

function addKron(phase: "merge" | "unmerge", site: MergeSite, module: PlanModule, { g, device }: MergeContext, sign: number): void {
  if (site.kind !== "linear" || site.layout !== "out_in") {
    throw new UserError(`${module.path}: LoKr merges into nn.Linear layers only (PEFT does not support ${site.kind} layers for LoKr)`);
  }
  const l = layoutOf(module);
  const t = declareTensors(g, module, l);
  // Products recomputed in each phase: unmerge does not rely on merge's scratch.
  const f = computeFactors(g, phase, module, l, t, device);
  g.op(phase, lokrKronAdd(l, sign * site.scale * module.scaling!, device), { w1: f.w1, w2: f.w2, W: site.weight }, `${module.path} lokr ${phase}`);
}

export const lokrMerge: MergeHook = {
  merge: (site, module, ctx) => addKron("merge", site, module, ctx, 1),
  unmerge: (site, module, ctx) => addKron("unmerge", site, module, ctx, -1),
};
