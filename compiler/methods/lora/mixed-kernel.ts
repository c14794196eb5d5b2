// The gathered down-projection of a mixed-adapter LoRA batch. The module's
// adapters are stacked: A_stack [n·rMax, in] (adapter l in rows l·rMax…, its
// rank padded with zero rows) and B_stack [out, n·rMax]. Each token row
// writes its own adapter's block of U [tokens, n·rMax], scaled by that
// adapter's s, and zeros elsewhere; then y = x·Wᵀ + U·B_stackᵀ (+ b) is one
// GEMM with the LoRA term (lora.ts), whichever adapter each row chose.
import { ceilDiv, renderKernel, wgslF32 } from "../../codegen/render.js";
import type { DeviceProfile, KernelInstance } from "../../codegen/types.js";

const TEMPLATES = "../../methods/lora/templates/";
const WG = 64;

export interface MixedDownShape {
  tokens: number;
  inFeatures: number;
  /** Padded rank: every adapter's block of U is this wide. */
  rMax: number;
  /** By stack slot: the adapter's scaling. */
  scales: number[];
  /** By adapter index (the host's numbering): its stack slot, −1 when it does not adapt this module. */
  slots: number[];
  /** Token rows per adapter index entry (a sequence's tokens). */
  rowsPerIndex: number;
}

/** Tensors: x [tokens, in], lora_A (A_stack), index (i32 [tokens / rowsPerIndex]) → u [tokens, n·rMax]. */
export function loraMixedDown(shape: MixedDownShape, _device: DeviceProfile): KernelInstance {
  const width = shape.scales.length * shape.rMax;
  const gy = Math.min(shape.tokens, 65535);
  const kernel = renderKernel({
    family: "lora",
    template: `${TEMPLATES}lora_mixed_down.wgsl.hbs`,
    variant: "mixed_down",
    reason: "one invocation per element of U; rows of other adapters write zeros",
    spec: { ...shape },
    view: {
      ...shape,
      width,
      adapters: shape.slots.length,
      stacked: shape.scales.length,
      slotList: shape.slots.join(", "),
      scaleList: shape.scales.map(wgslF32).join(", "),
      WG,
      gy,
    },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "x", access: "read", type: "f32" },
      { name: "lora_A", access: "read", type: "f32" },
      { name: "index", access: "read", type: "i32" },
      { name: "u", access: "read_write", type: "f32" },
    ],
  });
  return { kernel, dispatch: [ceilDiv(width, WG), gy, ceilDiv(shape.tokens, gy)] };
}
