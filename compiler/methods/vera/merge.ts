// VeRA merged into the layer it adapts, as PEFT's get_delta_weight:
//   ΔW = (λ_b ⊙ B[:out, :])·(λ_d ⊙ A[:, :in])       [out, in]; transposed for Conv1D
//   merge: W ← W + w·ΔW        unmerge: W ← W − w·ΔW
// with w the adapter's weight in the merge (1 for a plain merge_and_unload).
import { gemm } from "../../codegen/gemm.js";
import type { MergeContext, MergeHook, MergeSite } from "../../graph/merge.js";
import type { PlanModule } from "../../resolve/plan-types.js";
import { scaleAlong } from "../../codegen/scale.js";
import { lambdas, projections } from "./tensors-graph.js";

function addDelta(phase: "merge" | "unmerge", site: MergeSite, module: PlanModule, { g, device, adapter }: MergeContext, alpha: number): void {
  const P = projections(g, adapter);
  const l = lambdas(g, module, P.r);
  const { inFeatures: inF, outFeatures: out } = site;
  // The λ-scaled slices, remade by each phase (a few thousand values) so unmerge needs nothing kept from merge.
  const bb = g.activation(`vera_merge_B:${module.path}`, [out, P.r]);
  const ad = g.activation(`vera_merge_A:${module.path}`, [P.r, inF]);
  g.op(phase, scaleAlong({ rows: out, cols: P.r, ld: P.r, along: "rows" }, device), { src: P.B, s: l.b.param, out: bb }, `${module.path} vera λ_b·B ${phase}`);
  g.op(phase, scaleAlong({ rows: P.r, cols: inF, ld: P.maxIn, along: "rows" }, device), { src: P.A, s: l.d.param, out: ad }, `${module.path} vera λ_d·A ${phase}`);
  // (out, in) += Bb·Ad; Conv1D's (in, out) += Adᵀ·Bbᵀ.
  const step = site.layout === "out_in"
    ? { instance: gemm({ M: out, N: inF, K: P.r, alpha, accumulate: true }, device), bind: { a: bb, b: ad, c: site.weight } }
    : { instance: gemm({ M: inF, N: out, K: P.r, transA: true, transB: true, alpha, accumulate: true }, device), bind: { a: ad, b: bb, c: site.weight } };
  g.op(phase, step.instance, step.bind, `${module.path} vera ${phase}`);
}

export const veraMerge: MergeHook = {
  merge(site, module, ctx) {
    addDelta("merge", site, module, ctx, site.scale);
  },
  unmerge(site, module, ctx) {
    addDelta("unmerge", site, module, ctx, -site.scale);
  },
};
