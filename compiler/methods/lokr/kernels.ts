// LoKr's own kernels: the per-output dropout mask, and adding kron(w1, w2)
// into a weight (merge). Everything else is composed from GEMMs and the shared
// codegen/scale (which applies the mask).
import { ceilDiv, renderKernel, wgslF32 } from "../../codegen/render.js";
import type { DeviceProfile, KernelInstance } from "../../codegen/types.js";
import type { LokrLayout } from "./layout.js";

// Templates live beside this file; the renderer resolves them from its own folder.
const TEMPLATES = "../../methods/lokr/templates/";
const WG = 64;

export interface MaskShape {
  outFeatures: number;
  rankP: number;
  moduleP: number;
  /** rank_dropout_scale: divide by the kept fraction. */
  rescale: boolean;
  salt: number;
}

/** Tensors: → mask [out]. Params: seed, training. One workgroup (the kept count is a workgroup sum). */
export function lokrMask(shape: MaskShape, _device: DeviceProfile): KernelInstance {
  const spec = { ...shape, salt: shape.salt >>> 0, rank: shape.rankP > 0, rescale: shape.rescale && shape.rankP > 0 };
  const kernel = renderKernel({
    family: "lokr",
    template: `${TEMPLATES}lokr_mask.wgsl.hbs`,
    variant: spec.rescale ? "mask_rescaled" : "mask",
    reason: "one workgroup strides over the outputs (the rescale needs their kept count)",
    spec,
    view: { ...spec, WG, rankPText: wgslF32(shape.rankP), modulePText: wgslF32(shape.moduleP) },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "mask", access: "read_write", type: "f32" },
      { name: "params", access: "uniform" },
    ],
    params: [
      { name: "seed", type: "u32" },
      { name: "training", type: "u32" },
    ],
  });
  return { kernel, dispatch: [1, 1, 1] };
}


/** Tensors: w1, w2 → W (in place, (out, in)): W += alpha·kron(w1, w2). */
export function lokrKronAdd(l: LokrLayout, alpha: number, _device: DeviceProfile): KernelInstance {
  const inFeatures = l.inM * l.inN;
  const outFeatures = l.outL * l.outK;
  const gy = Math.min(outFeatures, 65535);
  const spec = { inFeatures, outFeatures, inM: l.inM, inN: l.inN, outL: l.outL, outK: l.outK, alpha };
  const kernel = renderKernel({
    family: "lokr",
    template: `${TEMPLATES}lokr_kron_add.wgsl.hbs`,
    variant: "kron_add",
    reason: "one invocation per weight element",
    spec,
    view: { ...spec, WG, gy, alpha: wgslF32(alpha), alphaText: wgslF32(alpha) },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "w1", access: "read", type: "f32" },
      { name: "w2", access: "read", type: "f32" },
      { name: "W", access: "read_write", type: "f32" },
    ],
  });
  return { kernel, dispatch: [ceilDiv(inFeatures, WG), gy, ceilDiv(outFeatures, gy)] };
}
