// The training-time dropouts LoHa and LoKr share (PEFT's LycorisLayer):
// rank_dropout drops whole output rows of ΔW, module_dropout skips the whole
// update for a step. Both hold for every token of the batch, so one factor
// per output feature, made on the GPU from the step's seed, is exact.
import { renderKernel, wgslF32 } from "../../codegen/render.js";
import type { DeviceProfile, KernelInstance } from "../../codegen/types.js";

// The template lives beside this file; the renderer resolves it from compiler/codegen/templates/.
const TEMPLATE = "../../methods/lycoris/templates/lycoris_dropout.wgsl.hbs";
const WG = 64;

export interface DropoutMaskShape {
  outFeatures: number;
  rankP: number;
  moduleP: number;
  /** Divide the kept rows by the kept fraction (PEFT's drop /= drop.mean()). */
  rescale: boolean;
  /** Which module's draws these are (see dropoutSalt). */
  salt: number;
}

/** Tensors: → mask [out]. Params: seed, training. One workgroup (the rescale needs the kept count, a workgroup sum). */
export function lycorisDropoutMask(shape: DropoutMaskShape, _device: DeviceProfile): KernelInstance {
  const { salt, ...rest } = shape;
  const spec = { ...rest, rank: shape.rankP > 0, rescale: shape.rescale && shape.rankP > 0 };
  const kernel = renderKernel({
    family: "lycoris",
    template: TEMPLATE,
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
      { name: "salt", type: "u32" },
    ],
  });
  return { kernel, dispatch: [1, 1, 1], params: { salt: salt >>> 0 } };
}
