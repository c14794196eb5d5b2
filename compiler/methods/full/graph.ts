// Full tuning of a linear layer: its own weight (and bias) are the trained
// tensors, starting from the model's values; dW = dYᵀ·X, db = Σ dY.
import { gemm } from "../../codegen/gemm.js";
import type { LinearHook, LinearSite } from "../../graph/linear.js";
import type { GraphBuilder } from "../../graph/builder.js";
import type { PlanModule } from "../../resolve/plan-types.js";

function tensors(g: GraphBuilder, site: LinearSite, module: PlanModule) {
  const key = (suffix: string) => `base_model.model.${module.path}.${suffix}`;
  const weightShape = site.layout === "in_out" ? [site.inFeatures, site.outFeatures] : [site.outFeatures, site.inFeatures];
  return {
    W: g.parameter(key("weight"), weightShape, { kind: "copy", from: site.weightTensor! }, { key: key("weight") }),
    b: site.biasTensor
      ? g.parameter(key("bias"), [site.outFeatures], { kind: "copy", from: site.biasTensor }, { key: key("bias"), decay: false })
      : undefined,
  };
}

export const fullGraph: LinearHook = {
  ownsWeight: true,
  forward(site, module, { g, device }) {
    const t = tensors(g, site, module);
    const bind: Record<string, string> = { a: site.x, b: t.W.param, c: site.y };
    if (t.b) bind.bias = t.b.param;
    g.op("forward", gemm({ M: site.tokens, N: site.outFeatures, K: site.inFeatures, transB: site.layout === "out_in", bias: Boolean(t.b) }, device), bind, `${module.path} full forward`);
  },
  backward(site, module, { g, device }, dy, dx) {
    const t = tensors(g, site, module);
    // (out, in) weights: dW = dYᵀ·X; Conv1D's (in, out): dW = Xᵀ·dY.
    const dW = site.layout === "out_in"
      ? { shape: { M: site.outFeatures, N: site.inFeatures, K: site.tokens, transA: true, accumulate: true }, bind: { a: dy, b: site.x, c: t.W.grad } }
      : { shape: { M: site.inFeatures, N: site.outFeatures, K: site.tokens, transA: true, accumulate: true }, bind: { a: site.x, b: dy, c: t.W.grad } };
    g.op("backward", gemm(dW.shape, device), dW.bind, `${module.path} full dW`);
    if (t.b) {
      const ones = g.constant(`ones:${site.tokens}`, new Array<number>(site.tokens).fill(1), "f32");
      g.op("backward", gemm({ M: 1, N: site.outFeatures, K: site.tokens, accumulate: true }, device), { a: ones, b: dy, c: t.b.grad }, `${module.path} full db`);
    }
    if (dx) {
      g.op("backward", gemm({ M: site.tokens, N: site.inFeatures, K: site.outFeatures, transB: site.layout === "in_out", accumulate: dx.accumulate }, device),
        { a: dy, b: t.W.param, c: dx.buffer }, `${module.path} full dx`);
    }
  },
};
