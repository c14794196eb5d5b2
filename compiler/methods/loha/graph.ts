// LoHa in the training graph (PEFT's loha/layer.py, Linear only):
//   ΔW = s·diag(d)·(A1·B1)⊙(A2·B2),  y = x·(W + ΔW)ᵀ (+ b)
// with s = alpha/r and d the per-row factor of rank_dropout and module_dropout
// (all ones outside training, absent when both are 0). The frozen W gets no
// gradient. Each layer runs materialised or low-rank, whichever costs fewer
// FLOPs for its shape (cost.ts); the op labels say which and why.
//
// Backward, with G = dΔW = dYᵀ·X (materialised path):
//   H1 = s·d⊙G⊙P2, H2 = s·d⊙G⊙P1;  dA1 = H1·B1ᵀ, dB1 = A1ᵀ·H1, dA2 = H2·B2ᵀ, dB2 = A2ᵀ·H2
//   dX = dY·(W + ΔW)
// and through the Khatri-Rao factors on the low-rank path (kernels.ts).
import { gemm } from "../../codegen/gemm.js";
import { loraLinearBackward, loraLinearForward } from "../../codegen/lora.js";
import type { DeviceProfile } from "../../codegen/types.js";
import { UserError } from "../../errors.js";
import type { GraphBuilder, TrainedTensor } from "../../graph/builder.js";
import type { LinearHook, LinearSite } from "../../graph/linear.js";
import type { InitSpec } from "../../graph/types.js";
import type { PlanModule } from "../../resolve/plan-types.js";
import { describeCost, lohaCost } from "./cost.js";
import { DROPOUT_PARAMS, dropoutSalt } from "../../codegen/dropout.js";
import { lycorisDropoutMask } from "../lycoris/dropout.js";
import { lohaElementwise, type LohaDims } from "./kernels.js";

export interface LohaFactors {
  A1: TrainedTensor;
  B1: TrainedTensor;
  A2: TrainedTensor;
  B2: TrainedTensor;
}

/**
 * PEFT's reset_adapter_parameters: kaiming_uniform_(a=√5) on each factor,
 * whose bound is 1/√fan_in with fan_in = the factor's second dimension (r for
 * the (out, r) factors, in for the (r, in) ones); w2b = 0 unless init_weights
 * is false.
 */
export function lohaFactors(g: GraphBuilder, module: PlanModule): LohaFactors {
  const key = (name: string) => `base_model.model.${module.path}.${name}`;
  const r = module.hyperparameters.r as number;
  const I = module.inFeatures;
  const O = module.outFeatures;
  const kaiming = (fanIn: number): InitSpec => ({ kind: "uniform", bound: 1 / Math.sqrt(fanIn) });
  const declare = (name: string, shape: number[], init: InitSpec) => g.parameter(key(name), shape, init, { key: key(name) });
  return {
    A1: declare("hada_w1_a", [O, r], kaiming(r)),
    B1: declare("hada_w1_b", [r, I], kaiming(I)),
    A2: declare("hada_w2_a", [O, r], kaiming(r)),
    B2: declare("hada_w2_b", [r, I], module.hyperparameters.init_weights === false ? kaiming(I) : { kind: "zeros" }),
  };
}

export function lohaDims(module: PlanModule): LohaDims {
  return { inFeatures: module.inFeatures, outFeatures: module.outFeatures, r: module.hyperparameters.r as number };
}

/** LoHa adapts nn.Linear only: PEFT refuses transformers' Conv1D for LoHa with a TypeError, and so do we. */
export function requireLinear(layout: LinearSite["layout"], module: PlanModule): void {
  if (layout !== "out_in") {
    throw new UserError(`${module.path}: LoHa adapts Linear layers only; GPT-2's Conv1D is not supported (PEFT refuses it too)`);
  }
}

const dropoutOf = (module: PlanModule) => ({
  rank: (module.hyperparameters.rank_dropout as number | undefined) ?? 0,
  module: (module.hyperparameters.module_dropout as number | undefined) ?? 0,
});

/** Whether this graph needs the per-row factor: only a training graph with a dropout set. */
function rowScaled(g: GraphBuilder, module: PlanModule): boolean {
  const p = dropoutOf(module);
  return g.training && (p.rank > 0 || p.module > 0);
}

const names = (path: string) => ({
  d: `loha_d:${path}`,
  P1: `loha_P1:${path}`,
  P2: `loha_P2:${path}`,
  Weff: `loha_Weff:${path}`,
  Akr: `loha_Akr:${path}`,
  Bkr: `loha_Bkr:${path}`,
  u: `loha_u:${path}`,
  // The backward's own copies: sharing the forward's would keep them alive across the whole step.
  G: `loha_G:${path}`,
  H1: `loha_H1:${path}`,
  H2: `loha_H2:${path}`,
  WeffBack: `loha_Weff_backward:${path}`,
  dAkr: `loha_dAkr:${path}`,
  dBkr: `loha_dBkr:${path}`,
});

const REASON = {
  materialised: "LoHa, materialised path (fewer FLOPs for this layer's shape; the op label gives the counts)",
  lowRank: "LoHa, low-rank path: ΔW through its Khatri-Rao factors, never materialised (fewer FLOPs for this layer's shape; the op label gives the counts)",
};

/** P = A·B, (out, r)·(r, in). */
function product(device: DeviceProfile, dims: LohaDims) {
  return gemm({ M: dims.outFeatures, N: dims.inFeatures, K: dims.r }, device);
}

export const lohaGraph: LinearHook = {
  forward(site, module, { g, device }) {
    requireLinear(site.layout, module);
    const t = lohaFactors(g, module);
    const dims = lohaDims(module);
    const { r } = dims;
    const s = module.scaling!;
    const n = names(module.path);
    const cost = lohaCost(site.tokens, site.inFeatures, site.outFeatures, r, g.training);
    const label = `${module.path} loha ${describeCost(cost)}`;
    const rowScale = rowScaled(g, module);
    if (rowScale) {
      const p = dropoutOf(module);
      g.activation(n.d, [site.outFeatures]);
      // PEFT's LoHa always divides by the kept fraction.
      g.op("forward", lycorisDropoutMask({ outFeatures: site.outFeatures, rankP: p.rank, moduleP: p.module, rescale: true, salt: dropoutSalt(`loha:${module.path}`) }, device),
        { mask: n.d }, `${module.path} loha dropout factors`, DROPOUT_PARAMS);
    }
    const d: Record<string, string> = rowScale ? { d: n.d } : {};
    if (cost.path === "materialised") {
      g.activation(n.P1, [site.outFeatures, site.inFeatures]);
      g.activation(n.P2, [site.outFeatures, site.inFeatures]);
      g.activation(n.Weff, [site.outFeatures, site.inFeatures]);
      g.op("forward", product(device, dims), { a: t.A1.param, b: t.B1.param, c: n.P1 }, `${label}: P1 = w1a·w1b`);
      g.op("forward", product(device, dims), { a: t.A2.param, b: t.B2.param, c: n.P2 }, `${label}: P2 = w2a·w2b`);
      g.op("forward", lohaElementwise({ op: "weight", scale: s, rowScale }, dims, REASON.materialised), { W: site.weight, P1: n.P1, P2: n.P2, Weff: n.Weff, ...d }, `${label}: W + ΔW`);
      const bind: Record<string, string> = { a: site.x, b: n.Weff, c: site.y };
      if (site.bias) bind.bias = site.bias;
      g.op("forward", gemm({ M: site.tokens, N: site.outFeatures, K: site.inFeatures, transB: true, bias: Boolean(site.bias) }, device), bind, `${label}: y`);
      return;
    }
    g.activation(n.Akr, [site.outFeatures, r * r]);
    g.activation(n.Bkr, [r * r, site.inFeatures]);
    g.activation(n.u, [site.tokens, r * r]);
    g.op("forward", lohaElementwise({ op: "kr_a", rowScale }, dims, REASON.lowRank), { A1: t.A1.param, A2: t.A2.param, Akr: n.Akr, ...d }, `${label}: Khatri-Rao of w1a, w2a`);
    g.op("forward", lohaElementwise({ op: "kr_b" }, dims, REASON.lowRank), { B1: t.B1.param, B2: t.B2.param, Bkr: n.Bkr }, `${label}: Khatri-Rao of w1b, w2b`);
    const plan = loraLinearForward({ tokens: site.tokens, inFeatures: site.inFeatures, outFeatures: site.outFeatures, r: r * r, scale: s, bias: Boolean(site.bias), wLayout: "out_in" }, device);
    g.plan("forward", plan, { x: site.x, W: site.weight, lora_A: n.Bkr, lora_B: n.Akr, u: n.u, y: site.y, ...(site.bias ? { bias: site.bias } : {}) }, `${label}: y`);
  },

  backward(site, module, { g, device }, dy, dx) {
    const t = lohaFactors(g, module);
    const dims = lohaDims(module);
    const { r } = dims;
    const s = module.scaling!;
    const n = names(module.path);
    const cost = lohaCost(site.tokens, site.inFeatures, site.outFeatures, r, g.training);
    const label = `${module.path} loha backward, ${describeCost(cost)}`;
    const rowScale = rowScaled(g, module);
    const d: Record<string, string> = rowScale ? { d: n.d } : {};
    const acc = { accumulate: true };
    if (cost.path === "materialised") {
      const O = site.outFeatures;
      const I = site.inFeatures;
      for (const name of [n.G, n.H1, n.H2]) g.activation(name, [O, I]);
      g.op("backward", gemm({ M: O, N: I, K: site.tokens, transA: true }, device), { a: dy, b: site.x, c: n.G }, `${label}: dΔW = dyᵀ·x`);
      g.op("backward", product(device, dims), { a: t.A1.param, b: t.B1.param, c: n.H1 }, `${label}: P1 again`);
      g.op("backward", product(device, dims), { a: t.A2.param, b: t.B2.param, c: n.H2 }, `${label}: P2 again`);
      if (dx) {
        g.activation(n.WeffBack, [O, I]);
        g.op("backward", lohaElementwise({ op: "weight", scale: s, rowScale }, dims, REASON.materialised), { W: site.weight, P1: n.H1, P2: n.H2, Weff: n.WeffBack, ...d }, `${label}: W + ΔW again`);
        g.op("backward", gemm({ M: site.tokens, N: I, K: O, accumulate: dx.accumulate }, device), { a: dy, b: n.WeffBack, c: dx.buffer }, `${label}: dx = dy·(W + ΔW)`);
      }
      // In place: H1 = s·d⊙G⊙P2 and H2 = s·d⊙G⊙P1.
      g.op("backward", lohaElementwise({ op: "hadamard_backward", scale: s, rowScale }, dims, REASON.materialised), { G: n.G, P1: n.H1, P2: n.H2, ...d }, `${label}: through the Hadamard product`);
      g.op("backward", gemm({ M: O, N: r, K: I, transB: true, ...acc }, device), { a: n.H1, b: t.B1.param, c: t.A1.grad }, `${label}: d w1a`);
      g.op("backward", gemm({ M: r, N: I, K: O, transA: true, ...acc }, device), { a: t.A1.param, b: n.H1, c: t.B1.grad }, `${label}: d w1b`);
      g.op("backward", gemm({ M: O, N: r, K: I, transB: true, ...acc }, device), { a: n.H2, b: t.B2.param, c: t.A2.grad }, `${label}: d w2a`);
      g.op("backward", gemm({ M: r, N: I, K: O, transA: true, ...acc }, device), { a: t.A2.param, b: n.H2, c: t.B2.grad }, `${label}: d w2b`);
      return;
    }
    g.activation(n.dAkr, [site.outFeatures, r * r]);
    g.activation(n.dBkr, [r * r, site.inFeatures]);
    const plan = loraLinearBackward({ tokens: site.tokens, inFeatures: site.inFeatures, outFeatures: site.outFeatures, r: r * r, scale: s, wLayout: "out_in" }, device,
      { accumulateGrads: false, accumulateDx: dx?.accumulate ?? false });
    // steps: du, dAkr (the plan's dB), dBkr (its dA), dx = dy·W + du·Bkr.
    if (!dx) plan.steps = plan.steps.slice(0, 3);
    g.plan("backward", plan, {
      dy, x: site.x, u: n.u, W: site.weight, lora_A: n.Bkr, lora_B: n.Akr, grad_A: n.dBkr, grad_B: n.dAkr, ...(dx ? { dx: dx.buffer } : {}),
    }, `${label}: dy through the rank-${r * r} product`);
    // One writable gradient per dispatch (each is a view of the flat gradient buffer).
    g.op("backward", lohaElementwise({ op: "kr_grad_a1", rowScale }, dims, REASON.lowRank), { dAkr: n.dAkr, other: t.A2.param, grad: t.A1.grad, ...d }, `${label}: d w1a`);
    g.op("backward", lohaElementwise({ op: "kr_grad_a2", rowScale }, dims, REASON.lowRank), { dAkr: n.dAkr, other: t.A1.param, grad: t.A2.grad, ...d }, `${label}: d w2a`);
    g.op("backward", lohaElementwise({ op: "kr_grad_b1" }, dims, REASON.lowRank), { dBkr: n.dBkr, other: t.B2.param, grad: t.B1.grad }, `${label}: d w1b`);
    g.op("backward", lohaElementwise({ op: "kr_grad_b2" }, dims, REASON.lowRank), { dBkr: n.dBkr, other: t.B1.param, grad: t.B2.grad }, `${label}: d w2b`);
  },
};
