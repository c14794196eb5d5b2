// LoRA merged into the layer it adapts, as PEFT's merge / unmerge:
//   W ← W + w·s·B·A              (Linear; (B·A)ᵀ for Conv1D and Embedding)
//   DoRA: n = ‖W + s·B·A‖ per output;  W ← (m / n)·(W + s·B·A);  unmerge: W ← W / (m / n) − s·B·A
// with s the scaling (alpha/r, or alpha/√r with rsLoRA) and w the adapter's merge weight.
import { gemm } from "../../codegen/gemm.js";
import { UserError } from "../../errors.js";
import type { MergeContext, MergeHook, MergeSite } from "../../graph/merge.js";
import type { PlanModule } from "../../resolve/plan-types.js";
import { doraNorm, doraRescale } from "./dora.js";

function tensors({ g }: MergeContext, site: MergeSite, module: PlanModule) {
  const key = (suffix: string) => `base_model.model.${module.path}.${suffix}`;
  const r = module.hyperparameters.r as number;
  const embedding = site.kind === "embedding";
  const A = embedding ? key("lora_embedding_A") : key("lora_A.weight");
  const B = embedding ? key("lora_embedding_B") : key("lora_B.weight");
  return {
    A: g.parameter(A, [r, module.inFeatures], { kind: "zeros" }, { key: A }).param,
    B: g.parameter(B, [module.outFeatures, r], { kind: "zeros" }, { key: B }).param,
    m: module.hyperparameters.use_dora
      ? g.parameter(key("lora_magnitude_vector"), [module.outFeatures], { kind: "zeros" }, { key: key("lora_magnitude_vector") }).param
      : undefined,
  };
}

/** W += alpha·(B·A), in the layout W is stored in. */
function addLowRank(phase: "merge" | "unmerge", ctx: MergeContext, site: MergeSite, module: PlanModule, A: string, B: string, alpha: number): void {
  const r = module.hyperparameters.r as number;
  // (out, in) += B·A; Conv1D's (in, out) and Embedding's (vocab, hidden) += Aᵀ·Bᵀ.
  const shape = site.layout === "out_in" && site.kind !== "embedding"
    ? { instance: gemm({ M: site.outFeatures, N: site.inFeatures, K: r, alpha, accumulate: true }, ctx.device), bind: { a: B, b: A, c: site.weight } }
    : { instance: gemm({ M: site.inFeatures, N: site.outFeatures, K: r, transA: true, transB: true, alpha, accumulate: true }, ctx.device), bind: { a: A, b: B, c: site.weight } };
  ctx.g.op(phase, shape.instance, shape.bind, `${module.path} lora ${phase}`);
}

export const loraMerge: MergeHook = {
  merge(site, module, ctx) {
    const t = tensors(ctx, site, module);
    const s = module.scaling!;
    if (t.m) {
      if (site.kind === "embedding") throw new UserError(`${module.path}: merging DoRA into an embedding is not supported`);
      if (site.scale !== 1) throw new UserError(`${module.path}: a DoRA adapter merges with weight 1 only (its magnitude does not scale)`);
      const norm = ctx.g.activation(`dora_merge_norm:${module.path}`, [site.outFeatures]);
      ctx.g.op("merge", doraNorm(site, module, ctx.device), { W: site.weight, lora_A: t.A, lora_B: t.B, norm }, `${module.path} dora norm`);
      addLowRank("merge", ctx, site, module, t.A, t.B, s);
      ctx.g.op("merge", doraRescale(site, false), { m: t.m, norm, W: site.weight }, `${module.path} dora rescale`);
      return;
    }
    addLowRank("merge", ctx, site, module, t.A, t.B, site.scale * s);
  },
  unmerge(site, module, ctx) {
    const t = tensors(ctx, site, module);
    const s = module.scaling!;
    if (t.m) {
      // The norm kept from the merge (PEFT caches it the same way).
      const norm = ctx.g.activation(`dora_merge_norm:${module.path}`, [site.outFeatures]);
      ctx.g.op("unmerge", doraRescale(site, true), { m: t.m, norm, W: site.weight }, `${module.path} dora rescale`);
      addLowRank("unmerge", ctx, site, module, t.A, t.B, -s);
      return;
    }
    addLowRank("unmerge", ctx, site, module, t.A, t.B, -site.scale * s);
  },
};
