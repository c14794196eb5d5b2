// IA3's own kernels: the learned vector's gradient (a column sum of products,
// with the scaled gradient fused in), and the in-place rescaling that merges
// it into a weight and takes it out again. The forward's scaling is the shared
// codegen/scale.
import { ceilDiv, renderKernel, wgslF32, type BindingDecl } from "../../codegen/render.js";
import type { KernelInstance } from "../../codegen/types.js";

// Templates live beside this file; the renderer resolves them from compiler/codegen/templates/.
const TEMPLATES = "../../methods/ia3/templates/";
const WG = 64;

export interface Matrix {
  rows: number;
  cols: number;
}


/**
 * Tensors: g, v [rows, cols], l [cols] → grad_l [cols] += Σ_rows g⊙v, and
 * out [rows, cols] = g·diag(l) (or += when accumulating), in one pass over g.
 * (The gradient alone is the shared codegen/reduce columnDot.)
 */
export function ia3Grad(shape: Matrix, out: "write" | "accumulate"): KernelInstance {
  const spec = { ...shape, out };
  const bindings: BindingDecl[] = [
    { name: "g", access: "read", type: "f32" },
    { name: "v", access: "read", type: "f32" },
    { name: "l", access: "read", type: "f32" },
    { name: "out", access: "read_write", type: "f32" },
    { name: "grad_l", access: "read_write", type: "f32" },
  ];
  const kernel = renderKernel({
    family: "ia3",
    template: `${TEMPLATES}ia3_grad.wgsl.hbs`,
    variant: `grad_${out}`,
    reason: "one invocation per column, summing over rows in a fixed order (deterministic)",
    spec,
    view: { ...shape, accumulate: out === "accumulate", WG },
    workgroupSize: [WG, 1, 1],
    bindings,
  });
  return { kernel, dispatch: [ceilDiv(shape.cols, WG), 1, 1] };
}

/**
 * Tensors: l → W [rows, cols] in place: each row (or column) times weight·l
 * (merge), or divided by weight·l + 1e-8 (unmerge), as PEFT's IA3 merge and
 * unmerge do.
 */
export function ia3Rescale(shape: Matrix & { perColumn: boolean; invert: boolean; weight: number }): KernelInstance {
  const gy = Math.min(shape.rows, 65535);
  const kernel = renderKernel({
    family: "ia3",
    template: `${TEMPLATES}ia3_rescale.wgsl.hbs`,
    variant: shape.invert ? "unmerge" : "merge",
    reason: "one invocation per element",
    spec: { ...shape },
    view: { ...shape, weight: wgslF32(shape.weight), WG, gy },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "l", access: "read", type: "f32" },
      { name: "W", access: "read_write", type: "f32" },
    ],
  });
  return { kernel, dispatch: [ceilDiv(shape.cols, WG), gy, ceilDiv(shape.rows, gy)] };
}
