// A linear layer in the graph: y = x·Wᵀ (+ b), or x·W for GPT-2's Conv1D,
// which stores W as (in, out). A module an adapter adapts is lowered by its
// method's hook; every other linear is a plain GEMM whose backward computes
// dX only when something below needs it, and never dW of the frozen weight.
import { gemm } from "../codegen/gemm.js";
import { gemmPlan } from "../codegen/gemm_plan.js";
import type { DeviceProfile } from "../codegen/types.js";
import type { PlanAdapter, PlanModule } from "../resolve/plan-types.js";
import type { GraphBuilder } from "./builder.js";
import type { Contribution, GradTracker } from "./grads.js";

export interface LinearSite {
  path: string;
  /** How W is stored: Hugging Face Linear (out, in), or Conv1D (in, out). */
  layout: "out_in" | "in_out";
  tokens: number;
  inFeatures: number;
  outFeatures: number;
  x: string;
  y: string;
  /** The frozen weight's buffer; absent when the method trains the weight itself. */
  weight: string;
  bias?: string;
  /** The checkpoint tensors behind weight and bias (for methods that start from them). */
  weightTensor?: string;
  biasTensor?: string;
}

export interface LinearContext {
  g: GraphBuilder;
  grads: GradTracker;
  device: DeviceProfile;
}

/** What a method's hook sees: the graph, and the adapter the module belongs to (for its shared tensors). */
export interface HookContext extends LinearContext {
  adapter: PlanAdapter;
}

/** What a method does to a linear layer it adapts. */
export interface LinearHook {
  /** The method trains the layer's own weight: no frozen copy is kept. */
  ownsWeight?: boolean;
  /** Emits the ops computing site.y (forward phase), declaring the method's tensors. */
  forward(site: LinearSite, module: PlanModule, ctx: HookContext): void;
  /**
   * Emits the backward: the gradients of the method's tensors (added into their
   * gradient buffers) and, when `dx` is given, the input gradient.
   */
  backward(site: LinearSite, module: PlanModule, ctx: HookContext, dy: string, dx: Contribution | undefined): void;
}

/** y = x·Wᵀ (+ b), or x·W for Conv1D; in the backward phase, made again (gradient checkpointing). */
export function plainLinearForward(site: LinearSite, ctx: LinearContext, phase: "forward" | "backward" = "forward"): void {
  const shape = { M: site.tokens, N: site.outFeatures, K: site.inFeatures, transB: site.layout === "out_in", bias: Boolean(site.bias) };
  const bind: Record<string, string> = { a: site.x, b: site.weight, c: site.y };
  if (site.bias) bind.bias = site.bias;
  // Evaluating, many rows: the planned product (on CPU adapters W transposed into a short-lived copy, then the
  // faster A·B kernel). Training keeps the direct kernel: the copy would add a weight's size to the step's peak memory.
  const label = `${site.path} forward${phase === "backward" ? " again (recompute)" : ""}`;
  if (!ctx.g.training) ctx.g.plan(phase, gemmPlan(shape, ctx.device), bind, label);
  else ctx.g.op(phase, gemm(shape, ctx.device), bind, label);
}

/** dX = dY·W (Linear) or dY·Wᵀ (Conv1D). */
export function plainLinearBackward(site: LinearSite, ctx: LinearContext, dy: string, dx: Contribution): void {
  const instance = gemm(
    { M: site.tokens, N: site.inFeatures, K: site.outFeatures, transB: site.layout === "in_out", accumulate: dx.accumulate },
    ctx.device,
  );
  ctx.g.op("backward", instance, { a: dy, b: site.weight, c: dx.buffer }, `${site.path} backward dx`);
}
