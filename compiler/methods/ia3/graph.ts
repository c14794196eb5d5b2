// IA3 in the training graph, as PEFT's ia3.Linear computes it (the frozen W
// gets no gradient):
//
//   feed-forward targets:  y = (x ⊙ l)·Wᵀ + b          l [1, in]
//     dX' = dy·W,  dl = Σ_t dX' ⊙ x,  dx = dX' ⊙ l
//   other targets:         z = x·Wᵀ + b,  y = z ⊙ l    l [out, 1]  (the bias is scaled too)
//     dl = Σ_t dy ⊙ z,  dx = (dy ⊙ l)·W
//
// Conv1D (in, out) only changes which side of W the GEMMs transpose. The
// scaling is a separate elementwise pass beside the GEMM rather than a GEMM
// epilogue: it moves tokens·width floats against the GEMM's tokens·in·out FMAs.
// Measured on lavapipe (256 tokens, 1024→1024 and 2816→1024): the scale pass
// 1.4–2.9 ms and the dl pass 0.6–0.9 ms beside GEMMs of 110–630 ms, so a
// fused epilogue could save under 1%. The dl pass writes the scaled gradient
// while it reads it anyway.
import { gemm } from "../../codegen/gemm.js";
import type { LinearHook, LinearSite } from "../../graph/linear.js";
import { scaleAlong } from "../../codegen/scale.js";
import { columnDot } from "../../codegen/reduce.js";
import { ia3Grad } from "./kernels.js";
import { ia3Vector } from "./vector.js";

const names = (site: LinearSite) => ({
  /** Feed-forward: the scaled input; its gradient. */
  xs: `ia3_xs:${site.path}`,
  dxs: `ia3_dxs:${site.path}`,
  /** Output-scaled: the layer's output before the scaling (kept for dl); its gradient. */
  z: `ia3_z:${site.path}`,
  dz: `ia3_dz:${site.path}`,
});

export const ia3Graph: LinearHook = {
  forward(site, module, { g, device }) {
    const l = ia3Vector(g, module);
    const n = names(site);
    const bias: Record<string, string> = site.bias ? { bias: site.bias } : {};
    const linear = gemm({ M: site.tokens, N: site.outFeatures, K: site.inFeatures, transB: site.layout === "out_in", bias: Boolean(site.bias) }, device);
    if (l.feedforward) {
      const xs = g.activation(n.xs, [site.tokens, site.inFeatures]);
      g.op("forward", scaleAlong({ rows: site.tokens, cols: site.inFeatures, along: "columns" }, device), { src: site.x, s: l.param, out: xs }, `${module.path} ia3 scale input`);
      g.op("forward", linear, { a: xs, b: site.weight, c: site.y, ...bias }, `${module.path} ia3 forward`);
      return;
    }
    const z = g.activation(n.z, [site.tokens, site.outFeatures]);
    g.op("forward", linear, { a: site.x, b: site.weight, c: z, ...bias }, `${module.path} ia3 forward`);
    g.op("forward", scaleAlong({ rows: site.tokens, cols: site.outFeatures, along: "columns" }, device), { src: z, s: l.param, out: site.y }, `${module.path} ia3 scale output`);
  },

  backward(site, module, { g, device }, dy, dx) {
    const l = ia3Vector(g, module);
    const n = names(site);
    if (l.feedforward) {
      // dX' = dy·W is needed for dl even when nothing below wants dx.
      const dxs = g.activation(n.dxs, [site.tokens, site.inFeatures]);
      g.op("backward", gemm({ M: site.tokens, N: site.inFeatures, K: site.outFeatures, transB: site.layout === "in_out" }, device),
        { a: dy, b: site.weight, c: dxs }, `${module.path} ia3 backward dx'`);
      if (!dx) {
        g.plan("backward", columnDot(site.tokens, site.inFeatures, device), { a: dxs, b: site.x, grad: l.grad }, `${module.path} ia3 backward dl`);
        return;
      }
      g.op("backward", ia3Grad({ rows: site.tokens, cols: site.inFeatures }, dx.accumulate ? "accumulate" : "write"),
        { g: dxs, v: site.x, grad_l: l.grad, l: l.param, out: dx.buffer }, `${module.path} ia3 backward dl, dx`);
      return;
    }
    const z = g.activation(n.z, [site.tokens, site.outFeatures]);
    if (!dx) {
      g.plan("backward", columnDot(site.tokens, site.outFeatures, device), { a: dy, b: z, grad: l.grad }, `${module.path} ia3 backward dl`);
      return;
    }
    const dz = g.activation(n.dz, [site.tokens, site.outFeatures]);
    g.op("backward", ia3Grad({ rows: site.tokens, cols: site.outFeatures }, "write"), { g: dy, v: z, l: l.param, out: dz, grad_l: l.grad }, `${module.path} ia3 backward dl, dz`);
    g.op("backward", gemm({ M: site.tokens, N: site.inFeatures, K: site.outFeatures, transB: site.layout === "in_out", accumulate: dx.accumulate }, device),
      { a: dz, b: site.weight, c: dx.buffer }, `${module.path} ia3 backward dx`);
  },
};
