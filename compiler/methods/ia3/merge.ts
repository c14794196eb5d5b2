// IA3 merged into the layer it adapts, as PEFT's ia3.Linear.merge / unmerge:
//   W ← W ⊙ l  (l broadcast along W's output axis, or its input axis for a
//   feed-forward target; Conv1D's (in, out) storage swaps rows and columns)
//   b ← b ⊙ l  for output-scaled targets only (a feed-forward target's bias is untouched)
// Unmerge divides by l + 1e-8, as PEFT does: no error for a zero in l, whose
// rows (or columns) merged to zero and so unmerge to zero (PEFT warns that
// "Unmerge result can be inaccurate for (IA)^3.").
// A merge weight w scales the vector: l → w·l, what PEFT's add_weighted_adapter
// makes of one IA3 adapter. Several adapters merged one after another multiply
// their vectors, as PEFT merging several active IA3 adapters does; PEFT's
// add_weighted_adapter sums w_i·l_i instead, which is `--combine linear` (combine.ts).
import { UserError } from "../../errors.js";
import type { MergeContext, MergeHook, MergeSite } from "../../graph/merge.js";
import type { PlanModule } from "../../resolve/plan-types.js";
import { ia3Rescale } from "./kernels.js";
import { ia3Vector } from "./vector.js";

function rescale(phase: "merge" | "unmerge", site: MergeSite, module: PlanModule, { g }: MergeContext): void {
  if (site.kind === "embedding") throw new UserError(`${module.path}: IA3 on an embedding is not supported (PEFT has no IA3 embedding layer either)`);
  const l = ia3Vector(g, module);
  const invert = phase === "unmerge";
  const weight = site.scale;
  const [rows, cols] = site.layout === "in_out" ? [site.inFeatures, site.outFeatures] : [site.outFeatures, site.inFeatures];
  // l runs along W's columns when it indexes the stored column axis: `in` for (out, in), `out` for (in, out).
  const perColumn = (site.layout === "out_in") === l.feedforward;
  g.op(phase, ia3Rescale({ rows, cols, perColumn, invert, weight }), { l: l.param, W: site.weight }, `${module.path} ia3 ${phase} weight`);
  if (!l.feedforward && site.bias) {
    g.op(phase, ia3Rescale({ rows: 1, cols: site.outFeatures, perColumn: true, invert, weight }), { l: l.param, W: site.bias }, `${module.path} ia3 ${phase} bias`);
  }
}

export const ia3Merge: MergeHook = {
  merge: (site, module, ctx) => rescale("merge", site, module, ctx),
  unmerge: (site, module, ctx) => rescale("unmerge", site, module, ctx),
};
