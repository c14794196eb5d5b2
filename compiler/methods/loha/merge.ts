// LoHa merged into the Linear it adapts, as PEFT's LycorisLayer.merge / unmerge:
//   W ← W ± w·s·(A1·B1)⊙(A2·B2)
// with s = alpha/r and w the adapter's merge weight. P1 and P2 are computed
// again for the unmerge (not kept): the same ops on the same inputs give the
// same ΔW, so W comes back to float32 rounding.
import { gemm } from "../../codegen/gemm.js";
import type { MergeContext, MergeHook, MergeSite } from "../../graph/merge.js";
import type { PlanModule } from "../../resolve/plan-types.js";
import { lohaDims, lohaFactors, requireLinear } from "./graph.js";
import { lohaElementwise } from "./kernels.js";

function addDelta(phase: "merge" | "unmerge", site: MergeSite, module: PlanModule, { g, device }: MergeContext, sign: 1 | -1): void {
  requireLinear(site.layout, module);
  const t = lohaFactors(g, module);
  const dims = lohaDims(module);
  // Named by shape, not by module: the merge runs one module after another, so
  // layers of one shape share the two (out, in) scratch matrices instead of
  // each holding its own for the whole merge.
  const shape = `${site.outFeatures}x${site.inFeatures}`;
  const P1 = g.activation(`loha_merge_P1:${shape}`, [site.outFeatures, site.inFeatures]);
  const P2 = g.activation(`loha_merge_P2:${shape}`, [site.outFeatures, site.inFeatures]);
  const product = gemm({ M: site.outFeatures, N: site.inFeatures, K: dims.r }, device);
  g.op(phase, product, { a: t.A1.param, b: t.B1.param, c: P1 }, `${module.path} loha ${phase}: P1 = w1a·w1b`);
  g.op(phase, product, { a: t.A2.param, b: t.B2.param, c: P2 }, `${module.path} loha ${phase}: P2 = w2a·w2b`);
  const scale = sign * site.scale * module.scaling!;
  g.op(phase, lohaElementwise({ op: "merge", scale }, dims, "LoHa merge: one invocation per weight (vec4 where rows allow)"),
    { P1, P2, W: site.weight }, `${module.path} loha ${phase}: W ${sign > 0 ? "+" : "−"}= ${Math.abs(scale)}·P1⊙P2`);
}

export const lohaMerge: MergeHook = {
  merge: (site, module, ctx) => addDelta("merge", site, module, ctx, 1),
  unmerge: (site, module, ctx) => addDelta("unmerge", site, module, ctx, -1),
};
