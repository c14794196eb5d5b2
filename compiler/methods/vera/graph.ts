// VeRA in the training graph (PEFT's vera/layer.py Linear.forward):
//
//   h = dropout(x)·A[:, :in]ᵀ              [tokens, r]    kept for dλ_d
//   w = h·(B[:out, :] ⊙ λ_d)ᵀ = (λ_d ⊙ h)·B[:out, :]ᵀ      kept for dλ_b
//   y = x·Wᵀ (+ b) + λ_b ⊙ w
//
// A, B are the adapter's shared frozen projections; only λ_b, λ_d train.
// Backward, with v = λ_d ⊙ h:
//   dλ_b = Σ_t dy ⊙ w      dv = dy·(λ_b ⊙ B[:out, :])      dλ_d = Σ_t dv ⊙ h
//   dx = dy·W + dv·(λ_d ⊙ A[:, :in])   (the second term through the dropout mask)
// Keeping w costs a [tokens, out] activation and saves the [out, r] GEMM over
// tokens that dλ_b would otherwise need; the λ-scaled slices of A and B are
// small ([r, in], [out, r]) and remade each step from the current λ.
import { DROPOUT_PARAMS, dropout, dropoutSalt } from "../../codegen/dropout.js";
import type { GraphBuilder } from "../../graph/builder.js";
import { gemm } from "../../codegen/gemm.js";
import type { LinearHook } from "../../graph/linear.js";
import type { PlanModule } from "../../resolve/plan-types.js";
import { scaleAlong } from "../../codegen/scale.js";
import { columnDot } from "../../codegen/reduce.js";
import { lambdas, projections, sliceOfA } from "./tensors-graph.js";

/** Dropout acts while training only: a graph that never trains copies nothing. */
const p = (module: PlanModule, g: GraphBuilder) => (g.training ? (module.hyperparameters.dropout as number | undefined) ?? 0 : 0);
const salt = (path: string) => dropoutSalt(`vera:${path}`);

const names = (path: string) => ({
  xd: `x_dropped:${path}`,
  h: `vera_h:${path}`,
  bd: `vera_B_lambda_d:${path}`,
  w: `vera_w:${path}`,
  bb: `vera_B_lambda_b:${path}`,
  dv: `vera_dv:${path}`,
  ad: `vera_A_lambda_d:${path}`,
  dxLow: `dx_low_rank:${path}`,
});

export const veraGraph: LinearHook = {
  forward(site, module, { g, device, adapter }) {
    const P = projections(g, adapter);
    const l = lambdas(g, module, P.r);
    const n = names(module.path);
    const { tokens: T, inFeatures: inF, outFeatures: out } = site;
    const r = P.r;
    let xa = site.x;
    if (p(module, g) > 0) {
      xa = g.activation(n.xd, [T, inF]);
      g.op("forward", dropout({ count: T * inF, p: p(module, g), salt: salt(module.path) }, device), { x: site.x, out: xa }, `${module.path} vera dropout`, DROPOUT_PARAMS);
    }
    g.activation(n.h, [T, r]);
    g.op("forward", gemm({ M: T, N: r, K: inF, transB: true }, device), { a: xa, b: sliceOfA(g, P, inF, device), c: n.h }, `${module.path} vera h`);
    g.activation(n.bd, [out, r]);
    g.op("forward", scaleAlong({ rows: out, cols: r, ld: r, along: "columns" }, device), { src: P.B, s: l.d.param, out: n.bd }, `${module.path} vera B·λ_d`);
    g.activation(n.w, [T, out]);
    g.op("forward", gemm({ M: T, N: out, K: r, transB: true }, device), { a: n.h, b: n.bd, c: n.w }, `${module.path} vera w`);
    // y = λ_b ⊙ w, then the base layer added on top (with its bias).
    g.op("forward", scaleAlong({ rows: T, cols: out, ld: out, along: "columns" }, device), { src: n.w, s: l.b.param, out: site.y }, `${module.path} vera λ_b·w`);
    const base: Record<string, string> = { a: site.x, b: site.weight, c: site.y };
    if (site.bias) base.bias = site.bias;
    g.op("forward", gemm({ M: T, N: out, K: inF, transB: site.layout === "out_in", bias: Boolean(site.bias), accumulate: true }, device), base, `${module.path} vera base`);
  },

  backward(site, module, { g, device, adapter }, dy, dx) {
    const P = projections(g, adapter);
    const l = lambdas(g, module, P.r);
    const n = names(module.path);
    const { tokens: T, inFeatures: inF, outFeatures: out } = site;
    const r = P.r;
    g.plan("backward", columnDot(T, out, device), { a: dy, b: n.w, grad: l.b.grad }, `${module.path} vera dλ_b`);
    g.activation(n.bb, [out, r]);
    g.op("backward", scaleAlong({ rows: out, cols: r, ld: r, along: "rows" }, device), { src: P.B, s: l.b.param, out: n.bb }, `${module.path} vera λ_b·B`);
    g.activation(n.dv, [T, r]);
    g.op("backward", gemm({ M: T, N: r, K: out }, device), { a: dy, b: n.bb, c: n.dv }, `${module.path} vera dv`);
    g.plan("backward", columnDot(T, r, device), { a: n.dv, b: n.h, grad: l.d.grad }, `${module.path} vera dλ_d`);
    if (!dx) return;
    g.activation(n.ad, [r, inF]);
    g.op("backward", scaleAlong({ rows: r, cols: inF, ld: P.maxIn, along: "rows" }, device), { src: P.A, s: l.d.param, out: n.ad }, `${module.path} vera λ_d·A`);
    const transB = site.layout === "in_out";
    if (p(module, g) === 0) {
      // dx = dy·W + dv·(λ_d ⊙ A[:, :in]) in one GEMM: the low-rank term continues its accumulators.
      g.op("backward", gemm({ M: T, N: inF, K: out, transB, lora: { R: r, transL: false, scale: 1 }, accumulate: dx.accumulate }, device),
        { a: dy, b: site.weight, u: n.dv, l: n.ad, c: dx.buffer }, `${module.path} vera dx`);
      return;
    }
    // The low-rank path saw the dropped-out x: its share of dx goes back through the same mask.
    g.op("backward", gemm({ M: T, N: inF, K: out, transB, accumulate: dx.accumulate }, device), { a: dy, b: site.weight, c: dx.buffer }, `${module.path} vera dx (base)`);
    g.activation(n.dxLow, [T, inF]);
    g.op("backward", gemm({ M: T, N: inF, K: r }, device), { a: n.dv, b: n.ad, c: n.dxLow }, `${module.path} vera dx (low rank)`);
    g.op("backward", dropout({ count: T * inF, p: p(module, g), salt: salt(module.path), backward: true, accumulate: true }, device),
      { x: n.dxLow, out: dx.buffer }, `${module.path} vera dropout backward`, DROPOUT_PARAMS);
  },
};
