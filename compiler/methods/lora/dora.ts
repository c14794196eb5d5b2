// DoRA's kernels (Liu et al. 2024, as PEFT implements it): the row norms of
// the adapted weight, the magnitude scaling, and the magnitude's gradient.
import { ceilDiv, renderKernel, wgslF32, type BindingDecl } from "../../codegen/render.js";
import type { DeviceProfile, KernelInstance } from "../../codegen/types.js";
import type { LinearSite } from "../../graph/linear.js";
import type { PlanModule } from "../../resolve/plan-types.js";

// Templates live beside this file; the renderer resolves them from its own folder.
const TEMPLATES = "../../methods/lora/templates/";
const WG = 64;

/** Tensors: W, lora_A, lora_B → norm [out]. */
export function doraNorm(site: Pick<LinearSite, "inFeatures" | "outFeatures" | "layout">, module: PlanModule, _device: DeviceProfile): KernelInstance {
  const spec = { inFeatures: site.inFeatures, outFeatures: site.outFeatures, r: module.hyperparameters.r as number, scale: module.scaling!, conv1d: site.layout === "in_out" };
  const kernel = renderKernel({
    family: "dora",
    template: `${TEMPLATES}dora_norm.wgsl.hbs`,
    variant: "norm",
    reason: "one invocation per output row",
    spec,
    view: { ...spec, scale: wgslF32(spec.scale), WG },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "W", access: "read", type: "f32" },
      { name: "lora_A", access: "read", type: "f32" },
      { name: "lora_B", access: "read", type: "f32" },
      { name: "norm", access: "read_write", type: "f32" },
    ],
  });
  return { kernel, dispatch: [ceilDiv(site.outFeatures, WG), 1, 1] };
}

/** Tensors: z, m, norm, (bias) → y. */
export function doraScale(site: LinearSite, _device: DeviceProfile, bias: boolean): KernelInstance {
  const gy = Math.min(site.tokens, 65535);
  const spec = { tokens: site.tokens, outFeatures: site.outFeatures, bias };
  const bindings: BindingDecl[] = [
    { name: "z", access: "read", type: "f32" },
    { name: "m", access: "read", type: "f32" },
    { name: "norm", access: "read", type: "f32" },
  ];
  if (bias) bindings.push({ name: "bias", access: "read", type: "f32" });
  bindings.push({ name: "y", access: "read_write", type: "f32" });
  const kernel = renderKernel({
    family: "dora",
    template: `${TEMPLATES}dora_scale.wgsl.hbs`,
    variant: bias ? "scale_bias" : "scale",
    reason: "one invocation per element",
    spec,
    view: { ...spec, WG, gy },
    workgroupSize: [WG, 1, 1],
    bindings,
  });
  return { kernel, dispatch: [ceilDiv(site.outFeatures, WG), gy, ceilDiv(site.tokens, gy)] };
}

/** Tensors: dy, z, norm → grad_m (added into). */
export function doraMagnitudeGrad(site: LinearSite, _device: DeviceProfile): KernelInstance {
  const spec = { tokens: site.tokens, outFeatures: site.outFeatures };
  const kernel = renderKernel({
    family: "dora",
    template: `${TEMPLATES}dora_magnitude_grad.wgsl.hbs`,
    variant: "magnitude_grad",
    reason: "one invocation per output, summing over tokens",
    spec,
    view: { ...spec, WG },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "dy", access: "read", type: "f32" },
      { name: "z", access: "read", type: "f32" },
      { name: "norm", access: "read", type: "f32" },
      { name: "grad_m", access: "read_write", type: "f32" },
    ],
  });
  return { kernel, dispatch: [ceilDiv(site.outFeatures, WG), 1, 1] };
}

/**
 * Tensors: m, norm → W (in place): each output's weights times m/norm (merge),
 * or divided by it (unmerge), as PEFT does.
 */
export function doraRescale(site: Pick<LinearSite, "inFeatures" | "outFeatures" | "layout">, invert: boolean): KernelInstance {
  // Rows and columns as W is stored: (out, in), or Conv1D's (in, out).
  const rows = site.layout === "in_out" ? site.inFeatures : site.outFeatures;
  const cols = site.layout === "in_out" ? site.outFeatures : site.inFeatures;
  const gy = Math.min(rows, 65535);
  const spec = { rows, cols, perColumn: site.layout === "in_out", invert };
  const kernel = renderKernel({
    family: "dora",
    template: `${TEMPLATES}dora_rescale.wgsl.hbs`,
    variant: invert ? "unmerge" : "merge",
    reason: "one invocation per weight",
    spec,
    view: { ...spec, WG, gy },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "m", access: "read", type: "f32" },
      { name: "norm", access: "read", type: "f32" },
      { name: "W", access: "read_write", type: "f32" },
    ],
  });
  return { kernel, dispatch: [ceilDiv(cols, WG), gy, ceilDiv(rows, gy)] };
}
