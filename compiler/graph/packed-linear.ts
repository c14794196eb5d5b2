// A frozen linear whose weight stays in the checkpoint's 16 bits on the GPU
// (BF16 and F16 models in training): half the memory of an f32 copy. Each
// product widens the weight into a short-lived f32 copy first, laid out so
// the product is A·B (the faster kernel on CPU adapters), which costs one pass
// over the weight and gives the same numbers as an f32 upload.
import { gemm } from "../codegen/gemm.js";
import { widen16, type Packed16 } from "../codegen/widen.js";
import type { Contribution } from "./grads.js";
import type { LinearContext, LinearSite } from "./linear.js";
import type { PhaseName } from "./types.js";

/**
 * The weight as an f32 [K, N] copy for c = a·W', where W' is W as the product
 * needs it: transposed from how it is stored when `transpose`.
 */
function widened(site: LinearSite, ctx: LinearContext, packed: Packed16, phase: PhaseName, transpose: boolean, name: string): string {
  const [rows, cols] = site.layout === "out_in" ? [site.outFeatures, site.inFeatures] : [site.inFeatures, site.outFeatures];
  const out = ctx.g.activation(name, transpose ? [cols, rows] : [rows, cols]);
  ctx.g.op(phase, widen16({ rows, cols, dtype: packed, transpose }, ctx.device), { x: site.weight, out }, `${site.path} widen weight${transpose ? " (transposed)" : ""}`);
  return out;
}

/** y = x·Wᵀ (+ b), or x·W for Conv1D; in the backward phase, made again (gradient checkpointing). */
export function packedLinearForward(site: LinearSite, ctx: LinearContext, packed: Packed16, phase: "forward" | "backward" = "forward"): void {
  const again = phase === "backward";
  const w = widened(site, ctx, packed, phase, site.layout === "out_in", `${site.path}.weight.f32${again ? ".recomputed" : ""}`);
  const bind: Record<string, string> = { a: site.x, b: w, c: site.y };
  if (site.bias) bind.bias = site.bias;
  ctx.g.op(phase, gemm({ M: site.tokens, N: site.outFeatures, K: site.inFeatures, bias: Boolean(site.bias) }, ctx.device), bind, `${site.path} forward${again ? " again (recompute)" : ""}`);
}

/** dX = dY·W (Linear) or dY·Wᵀ (Conv1D). */
export function packedLinearBackward(site: LinearSite, ctx: LinearContext, packed: Packed16, dy: string, dx: Contribution): void {
  const w = widened(site, ctx, packed, "backward", site.layout === "in_out", `${site.path}.weight.f32.backward`);
  ctx.g.op("backward", gemm({ M: site.tokens, N: site.inFeatures, K: site.outFeatures, accumulate: dx.accumulate }, ctx.device),
    { a: dy, b: w, c: dx.buffer }, `${site.path} backward dx`);
}
