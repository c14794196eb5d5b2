// RMSNorm (Llama) and LayerNorm (GPT-2): forward, input gradient, and the
// gradients of their weights (for LN tuning and full fine-tuning of norms).
import { ceilDiv, renderKernel, wgslF32, type BindingDecl } from "./render.js";
import type { DeviceProfile, KernelInstance } from "./types.js";

export interface NormShape {
  kind: "rms" | "layer";
  rows: number;
  D: number;
  eps: number;
}

const WG = 64;

function rowsGrid(rows: number): { gx: number; dispatch: [number, number, number] } {
  const gx = Math.min(rows, 65535);
  return { gx, dispatch: [gx, ceilDiv(rows, gx), 1] };
}

const reason = "one workgroup of 64 per row, reduced through workgroup memory";

/** Tensors: x [rows, D], w [D], (b [D]) → y [rows, D], rstdOut [rows], (mean [rows]). */
export function normForward(shape: NormShape, _device: DeviceProfile): KernelInstance {
  const layer = shape.kind === "layer";
  const bindings: BindingDecl[] = [
    { name: "x", access: "read", type: "f32" },
    { name: "w", access: "read", type: "f32" },
  ];
  if (layer) bindings.push({ name: "b", access: "read", type: "f32" });
  bindings.push({ name: "y", access: "read_write", type: "f32" });
  if (layer) bindings.push({ name: "mean", access: "read_write", type: "f32" });
  bindings.push({ name: "rstdOut", access: "read_write", type: "f32" });
  const { gx, dispatch } = rowsGrid(shape.rows);
  const kernel = renderKernel({
    family: `${shape.kind}norm`,
    template: "norm.wgsl.hbs",
    variant: "forward",
    reason,
    spec: { ...shape },
    view: { ...shape, layer, eps: wgslF32(shape.eps), WG, gx },
    workgroupSize: [WG, 1, 1],
    bindings,
  });
  return { kernel, dispatch };
}

/** Tensors: dy, x, w, rstdIn, (mean) → dx [rows, D]; with accumulate, dx += ... */
export function normBackward(shape: NormShape, _device: DeviceProfile, accumulate = false): KernelInstance {
  const layer = shape.kind === "layer";
  const bindings: BindingDecl[] = [
    { name: "dy", access: "read", type: "f32" },
    { name: "x", access: "read", type: "f32" },
    { name: "w", access: "read", type: "f32" },
  ];
  if (layer) bindings.push({ name: "mean", access: "read", type: "f32" });
  bindings.push({ name: "rstdIn", access: "read", type: "f32" }, { name: "dx", access: "read_write", type: "f32" });
  const { gx, dispatch } = rowsGrid(shape.rows);
  const kernel = renderKernel({
    family: `${shape.kind}norm`,
    template: "norm_backward.wgsl.hbs",
    variant: "backward",
    reason,
    spec: { ...shape, accumulate },
    view: { ...shape, layer, accumulate, WG, gx },
    workgroupSize: [WG, 1, 1],
    bindings,
  });
  return { kernel, dispatch };
}

/** Tensors: dy, x, rstdIn, (mean) → dw [D], (db [D]). */
export function normParamGrad(shape: NormShape, _device: DeviceProfile, accumulate = false): KernelInstance {
  const layer = shape.kind === "layer";
  const bindings: BindingDecl[] = [
    { name: "dy", access: "read", type: "f32" },
    { name: "x", access: "read", type: "f32" },
  ];
  if (layer) bindings.push({ name: "mean", access: "read", type: "f32" });
  bindings.push({ name: "rstdIn", access: "read", type: "f32" }, { name: "dw", access: "read_write", type: "f32" });
  if (layer) bindings.push({ name: "db", access: "read_write", type: "f32" });
  const kernel = renderKernel({
    family: `${shape.kind}norm`,
    template: "norm_param_grad.wgsl.hbs",
    variant: "param_grad",
    reason: "one invocation per column walks the rows",
    spec: { kind: shape.kind, rows: shape.rows, D: shape.D, accumulate },
    view: { ...shape, layer, accumulate, WG },
    workgroupSize: [WG, 1, 1],
    bindings,
  });
  return { kernel, dispatch: [ceilDiv(shape.D, WG), 1, 1] };
}
